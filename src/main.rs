//! The `mmant` binary: parses arguments and hands over to the library (see `cli`).

use std::process::ExitCode;

fn main() -> ExitCode {
    mmant::tune_allocator();
    match mmant::cli::run(std::env::args_os()) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
