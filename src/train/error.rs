//! Why a training run stops. Causes are printed in the message, not exposed as `source()` (see
//! `model::checkpoint::CheckpointError`).

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error(transparent)]
    Checkpoint(#[from] crate::model::checkpoint::CheckpointError),
    #[error(transparent)]
    Anticipation(#[from] crate::eval::AnticipationError),
    /// A tensor operation failed; `context` says which step, when known.
    #[error("{context}{}{error}", if context.is_empty() { "" } else { ": " })]
    Tensor { context: String, error: candle_core::Error },
    #[error("{context}: {error}")]
    Io { context: String, error: std::io::Error },
    /// Settings, inputs or saved state that do not fit together; the message says which.
    #[error("{0}")]
    Invalid(String),
}

impl From<candle_core::Error> for TrainError {
    fn from(error: candle_core::Error) -> Self {
        TrainError::Tensor { context: String::new(), error }
    }
}

/// `?` with a message in front, for the two kinds of cause training meets.
pub(crate) trait Context<T> {
    fn context_with(self, context: impl FnOnce() -> String) -> Result<T, TrainError>;
}

impl<T> Context<T> for Result<T, std::io::Error> {
    fn context_with(self, context: impl FnOnce() -> String) -> Result<T, TrainError> {
        self.map_err(|error| TrainError::Io { context: context(), error })
    }
}

impl<T> Context<T> for Result<T, candle_core::Error> {
    fn context_with(self, context: impl FnOnce() -> String) -> Result<T, TrainError> {
        self.map_err(|error| TrainError::Tensor { context: context(), error })
    }
}

/// Returns `TrainError::Invalid` with a formatted message.
macro_rules! invalid {
    ($($arg:tt)*) => {
        return Err($crate::train::TrainError::Invalid(format!($($arg)*)))
    };
}
pub(crate) use invalid;
