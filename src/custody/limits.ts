// Hard limits for reading bundles, which are hostile input: every count and size is bounded
// before anything is allocated for it, so a crafted bundle fails early and cheaply.

export interface BundleLimits {
  /** Archive entries (files and directories) in one bundle. */
  readonly maxEntries: number;
  /** Bytes of one entry's content. POSIX ustar cannot express more than 8 GiB - 1. */
  readonly maxEntrySize: number;
  /** Bytes of all entry contents together. */
  readonly maxTotalSize: number;
  /** Bytes of one tag file (bagit.txt, bag-info.txt, manifests, metadata/*), which are read into memory. */
  readonly maxTagFileSize: number;
  /** Bytes of one line of a manifest or tag file. */
  readonly maxLineLength: number;
  /** Zero bytes tolerated after the end-of-archive marker. */
  readonly maxTrailingPadding: number;
}

export const USTAR_MAX_SIZE = 8 * 1024 ** 3 - 1;

export const DEFAULT_LIMITS: BundleLimits = {
  maxEntries: 4096,
  maxEntrySize: USTAR_MAX_SIZE,
  maxTotalSize: 1024 ** 4,
  maxTagFileSize: 64 * 1024 * 1024,
  maxLineLength: 8192,
  maxTrailingPadding: 1024 * 1024,
};
