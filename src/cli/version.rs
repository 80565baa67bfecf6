//! What `spindle --version` says: the version, the commit the binary was
//! built from, the build's features and the CPU instruction set the kernels
//! use on this machine.

use spindle_kernels::isa::{Isa, Level};

/// `spindle -V`: the version and commit on one line.
pub fn short() -> String {
    format!("{} ({})", env!("CARGO_PKG_VERSION"), env!("SPINDLE_COMMIT"))
}

/// `spindle --version`: [`short`], then one line each for the features and
/// the instruction set (clap puts the program's name in front).
pub fn long() -> String {
    format!(
        "{}\ncommit: {}\nfeatures: {}\ncpu kernels: {} ({})",
        env!("CARGO_PKG_VERSION"),
        env!("SPINDLE_COMMIT"),
        features(),
        isa_name(Isa::best().level()),
        std::env::consts::ARCH,
    )
}

/// The optional features this binary was built with (`none` for a headless
/// CPU build).
fn features() -> String {
    let on: Vec<&str> = [
        (cfg!(feature = "gui"), "gui"),
        (cfg!(feature = "cuda"), "cuda"),
        (cfg!(feature = "metal"), "metal"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    if on.is_empty() {
        "none".into()
    } else {
        on.join(", ")
    }
}

/// The name users know an instruction set by.
fn isa_name(level: Level) -> &'static str {
    match level {
        Level::Avx512 => "AVX-512",
        Level::Avx2 => "AVX2 + FMA",
        Level::Portable => "portable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_long_version_names_commit_features_and_cpu() {
        let text = long();
        assert!(text.starts_with(env!("CARGO_PKG_VERSION")));
        assert!(text.contains("\ncommit: "));
        assert!(text.contains("\nfeatures: "));
        assert!(text.contains("\ncpu kernels: "));
        assert_eq!(short().lines().count(), 1);
    }
}
