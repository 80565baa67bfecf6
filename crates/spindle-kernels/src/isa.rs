//! The instruction sets the SIMD kernels are compiled for, detected at run
//! time: one place for every kernel (`gemm`, `rnn`, `bn_act_pool`).
//!
//! An [`Isa`] can only be obtained from detection on this CPU
//! ([`Isa::best`], [`Isa::available`]) or as [`Isa::portable`], which every
//! CPU runs. A kernel that is handed an `Isa` may therefore run its
//! instructions: that is what lets safe functions such as
//! [`super::gemm::PackedB::with_isa`] choose a compiled variant without
//! being able to run an instruction the CPU lacks.

use std::sync::OnceLock;

/// The variants the kernels are compiled for, widest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// AVX-512F with AVX2 and FMA (16 f32 lanes).
    Avx512,
    /// AVX2 with FMA (8 f32 lanes).
    Avx2,
    /// Whatever the compilation target vectorizes to, without fused
    /// multiply-add.
    Portable,
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
    /// last).
    pub fn available() -> Vec<Isa> {
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

    /// The widest instruction set this CPU runs (detected once).
    pub fn best() -> Isa {
        static BEST: OnceLock<Isa> = OnceLock::new();
        *BEST.get_or_init(|| Isa::available()[0])
    }

    /// Which variant this is.
    pub fn level(self) -> Level {
        self.0
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
    }
}
