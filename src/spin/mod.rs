//! Spin adapter (feature `spin`): work in progress.
