//! The instruction sets the SIMD kernels are compiled for, detected at run
//! time: one place for every kernel (`gemm`, `rnn`, `bn_act_pool`).
//!
//! An [`Isa`] can only be obtained from detection on this CPU
//! ([`Isa::best`], [`Isa::available`]) or as [`Isa::portable`], which every
//! CPU runs. A kernel that is handed an `Isa` may therefore run its
//! instructions: that is what lets safe functions such as
//! [`super::gemm::PackedB::with_isa`] choose a compiled variant without
//! being able to run an instruction the CPU lacks.
//!
//! **Capping.** The environment variable `SPINDLE_ISA` ([`ISA_ENV`]) set to
//! `avx512`, `avx2` or `portable` caps what [`Isa::best`] and
//! [`Isa::available`] return, so that a machine with AVX-512 can measure
//! the AVX2 path most laptops take. A cap never adds an instruction set the
//! CPU lacks: `SPINDLE_ISA=avx512` on an AVX2 machine gives AVX2. It is read
//! once per process. An unknown value is reported by [`cap_from_env`] (which
//! `spindle bench` checks first, failing with one line); the kernels
//! themselves, which cannot fail over a setting, print one warning on
//! stderr and use what detection finds.

use std::sync::OnceLock;

/// The environment variable that caps the instruction set (see the module
/// documentation).
pub const ISA_ENV: &str = "SPINDLE_ISA";

/// The variants the kernels are compiled for, widest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// AVX-512F with AVX2 and FMA (16 f32 lanes).
    Avx512,
    /// AVX2 with FMA (8 f32 lanes).
    Avx2,
    /// Whatever the compilation target vectorizes to, without fused
    /// multiply-add.
    Portable,
}

impl Level {
    /// The name used by `SPINDLE_ISA` and printed by `spindle bench`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Avx512 => "avx512",
            Level::Avx2 => "avx2",
            Level::Portable => "portable",
        }
    }

    /// The level named `s` (`avx512`, `avx2`, `portable`; any case).
    pub fn parse(s: &str) -> Option<Level> {
        [Level::Avx512, Level::Avx2, Level::Portable]
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(s.trim()))
    }
}

/// The cap `SPINDLE_ISA` sets: `Ok(None)` when unset or empty, an error
/// naming the variable and the accepted values when it names no level.
pub fn cap_from_env() -> Result<Option<Level>, String> {
    match std::env::var(ISA_ENV) {
        Err(std::env::VarError::NotPresent) => Ok(None),
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Level::parse(&v).map(Some).ok_or_else(|| {
            format!("{ISA_ENV}={v}: unknown instruction set; expected avx512, avx2 or portable")
        }),
        Err(std::env::VarError::NotUnicode(v)) => Err(format!(
            "{ISA_ENV}={}: unknown instruction set; expected avx512, avx2 or portable",
            v.to_string_lossy()
        )),
    }
}

/// The cap in force for this process (read once; an invalid value warns
/// once and caps nothing).
fn cap() -> Option<Level> {
    static CAP: OnceLock<Option<Level>> = OnceLock::new();
    *CAP.get_or_init(|| match cap_from_env() {
        Ok(cap) => cap,
        Err(e) => {
            eprintln!("warning: {e}; using the instruction set detected on this CPU");
            None
        }
    })
}

/// An instruction set this CPU is known to run (see the module
/// documentation); the field is private so that no other module can make
/// one up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Isa(Level);

impl Isa {
    /// The portable variant, which runs everywhere.
    pub fn portable() -> Isa {
        Isa(Level::Portable)
    }

    /// Every instruction set this CPU runs, widest first (the portable one
    /// last), without those above the `SPINDLE_ISA` cap.
    pub fn available() -> Vec<Isa> {
        let cap = cap().unwrap_or(Level::Avx512);
        Isa::detected().into_iter().filter(|i| i.0 >= cap).collect()
    }

    /// Every instruction set this CPU runs, whatever the cap.
    fn detected() -> Vec<Isa> {
        let mut out = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            let avx2 = std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma");
            if avx2 && std::arch::is_x86_feature_detected!("avx512f") {
                out.push(Isa(Level::Avx512));
            }
            if avx2 {
                out.push(Isa(Level::Avx2));
            }
        }
        out.push(Isa::portable());
        out
    }

    /// The widest instruction set this CPU runs within the cap (detected
    /// once).
    pub fn best() -> Isa {
        static BEST: OnceLock<Isa> = OnceLock::new();
        *BEST.get_or_init(|| Isa::available()[0])
    }

    /// Which variant this is.
    pub fn level(self) -> Level {
        self.0
    }

    /// Its name (`avx512`, `avx2`, `portable`).
    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_lists_the_best_first_and_portable_last() {
        let all = Isa::available();
        assert_eq!(all[0], Isa::best());
        assert_eq!(all.last(), Some(&Isa::portable()));
        #[cfg(target_arch = "x86_64")]
        if all.iter().any(|i| i.level() == Level::Avx512) {
            assert!(std::arch::is_x86_feature_detected!("avx512f"));
            assert!(std::arch::is_x86_feature_detected!("avx2"));
            assert!(std::arch::is_x86_feature_detected!("fma"));
        }
        // The cap only removes: what is available was detected.
        let detected = Isa::detected();
        assert!(all.iter().all(|i| detected.contains(i)));
        if let Ok(Some(cap)) = cap_from_env() {
            assert!(all.iter().all(|i| i.level() >= cap));
        }
    }

    #[test]
    fn levels_parse_by_name_and_order_widest_first() {
        for l in [Level::Avx512, Level::Avx2, Level::Portable] {
            assert_eq!(Level::parse(l.name()), Some(l));
        }
        assert_eq!(Level::parse(" AVX2 "), Some(Level::Avx2));
        assert_eq!(Level::parse("sse4"), None);
        assert!(Level::Avx512 < Level::Avx2 && Level::Avx2 < Level::Portable);
    }
}
