//! The core's log records (the `log` facade) on the Workers console.
//!
//! `LOG_LEVEL` (`off`, `error`, `warn` (default), `info`, `debug`) sets the level. Records never
//! carry a secret: the core logs grant names, `client-request-id`s, statuses, provider error
//! codes, throttle windows and clock offsets, never a token, code, assertion or key.

use log::{Level, Log, Metadata, Record};
use worker::{console_error, console_log, console_warn};

use edge_token::config::{log_level, Settings};

/// Writes records to `console.error` / `console.warn` / `console.log` by level.
struct ConsoleLogger;

impl Log for ConsoleLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let target = record.target();
        match record.level() {
            Level::Error => console_error!("[edge-token] {target}: {}", record.args()),
            Level::Warn => console_warn!("[edge-token] {target}: {}", record.args()),
            _ => console_log!("[edge-token] {target}: {}", record.args()),
        }
    }

    fn flush(&self) {}
}

static LOGGER: ConsoleLogger = ConsoleLogger;

/// Installs the console logger (once per isolate) and sets the level from `LOG_LEVEL`; an
/// unknown value means the default, `warn`.
pub fn install_console_logger(settings: &dyn Settings) {
    // Only the first call installs; later ones find it in place, which is what we want.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log_level(settings));
}
