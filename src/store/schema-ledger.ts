// Row types of the ledger tables (owned by ledger/, declared here so the store knows its schema).

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by the ledger migration
export interface LedgerTables {}
