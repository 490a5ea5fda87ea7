//! Records the commit the binary is built from (with `-dirty` for uncommitted changes), so that a
//! checkpoint names the code that trained it, whichever folder it was trained in.

fn main() {
    for path in [".git/HEAD", ".git/index", "src"] {
        println!("cargo:rerun-if-changed={path}");
    }
    let commit = std::process::Command::new("git")
        .args(["describe", "--always", "--dirty", "--abbrev=7"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    println!("cargo:rustc-env=MMANT_GIT_COMMIT={commit}");
}
