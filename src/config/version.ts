// The Custos release: named in export bundles (Bag-Software-Agent) and in security events sent out.
export const CUSTOS_VERSION = '0.1.0';
