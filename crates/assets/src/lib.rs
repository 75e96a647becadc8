//! Asset manifest and fetcher.
