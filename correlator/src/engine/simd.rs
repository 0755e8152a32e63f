//! Run-time CPU dispatch for the hot loops: each function is compiled twice,
//! for the baseline x86-64 target and with AVX2 enabled, and the AVX2 copy
//! is used when the CPU has it. Both copies do the same IEEE operations in
//! the same order (Rust never fuses a·b + c into an FMA on its own), so the
//! output does not depend on which copy ran.

/// Define `fn name(args) -> ret { body }` with an AVX2 copy chosen at run time.
macro_rules! multiversion {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$m])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn generic($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? {
                    generic($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports AVX2 (checked just above).
                    return unsafe { avx2($($arg),*) };
                }
            }
            generic($($arg),*)
        }
    };
}

pub(crate) use multiversion;
