//! The integration tests, one binary (it links candle, eframe and FFmpeg once): a module per
//! area. Run one area with `cargo test --release --test integration <module>::`.

mod common;

mod annotation;
mod architecture;
mod autograd;
mod backbone_parity;
mod bad_input;
mod cli_errors;
mod features;
mod formats;
mod from_annotations;
mod golden_metrics;
mod import_checkpoint;
mod model_parity;
mod predict;
mod shared_data;
mod shipped_checkpoint;
mod text_encoder;
mod train_eval;
mod video_decode;
mod viewer;
mod window;
