//! Records the commit psg is built from (`PSG_BUILD_COMMIT`) for `psg --version`.

#[path = "build_commit.rs"]
mod build_commit;

fn main() {
    let dir = std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    for file in build_commit::watched(&dir) {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    println!("cargo:rerun-if-changed=build_commit.rs");
    println!("cargo:rustc-env=PSG_BUILD_COMMIT={}", build_commit::commit(&dir));
}
