use std::path::{Path, PathBuf};

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// TOML syntax, an unknown key, a wrong type or a bad unit; the message names the line.
    #[error("{}{message}", path.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default())]
    Syntax {
        /// The file, when known.
        path: Option<PathBuf>,
        /// The parser's message, with line, column and the offending key.
        message: String,
    },
    /// Well-formed but inconsistent configuration.
    #[error("invalid config: {0}")]
    Invalid(String),
}

impl ConfigError {
    pub(super) fn in_file(self, file: &Path) -> Self {
        match self {
            ConfigError::Syntax { message, .. } => ConfigError::Syntax {
                path: Some(file.to_owned()),
                message,
            },
            other => other,
        }
    }
}
