//! Fastly Compute adapter (feature `fastly`): work in progress.
