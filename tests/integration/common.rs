//! Helpers shared by the integration tests.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The real Breakfast / 50 Salads / DARai files beside the project (`../shared/data`), or the
/// folder named by MMANT_SHARED_DATA. Missing data fails the test: CI always has it.
pub fn shared_data(name: &str) -> PathBuf {
    let base = std::env::var_os("MMANT_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    let dir = base.join(name);
    assert!(
        dir.is_dir(),
        "{} is missing: the tests read the shared real data (set MMANT_SHARED_DATA)",
        dir.display()
    );
    dir
}

pub fn mmant(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mmant")).args(args).output().expect("run mmant")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
