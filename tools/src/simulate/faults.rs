//! Which frames of a recording are damaged: invalid (written with the invalid
//! bit set), missing (left out), and whether the file ends inside its last frame.

use super::scenario::Faults;
use super::signal::rng_at;
use rand::Rng;

/// What happens to one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Good,
    Invalid,
    Missing,
}

/// Fates of every frame of every VDIF thread of one station.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultPlan {
    /// fates[thread index][frame index]
    fates: Vec<Vec<Fate>>,
    pub truncate_last_frame: bool,
}

impl FaultPlan {
    /// Draw the fates: each (thread, frame) is missing with probability
    /// `missing_fraction`, else invalid with `invalid_fraction`; frames
    /// starting within a listed range (seconds after the first sample) are
    /// missing / invalid outright. Random draws come from the recording's
    /// own `stream` (the station's
    /// [`fault_stream`](super::signal::fault_stream), per scan in a session),
    /// one thread after the other, so they never depend on how the work is
    /// scheduled.
    pub fn new(
        faults: &Faults,
        seed: u64,
        stream: u64,
        threads: usize,
        frames: u64,
        frames_per_second: u64,
    ) -> FaultPlan {
        let in_ranges = |ranges: &[[f64; 2]], f: u64| {
            let t = f as f64 / frames_per_second as f64;
            ranges.iter().any(|r| t >= r[0] && t < r[1])
        };
        let fates = (0..threads)
            .map(|th| {
                let mut rng = rng_at(seed, stream, th as i64);
                (0..frames)
                    .map(|f| {
                        let (um, ui): (f64, f64) = (rng.random(), rng.random());
                        if in_ranges(&faults.missing_ranges_s, f) || um < faults.missing_fraction {
                            Fate::Missing
                        } else if in_ranges(&faults.invalid_ranges_s, f)
                            || ui < faults.invalid_fraction
                        {
                            Fate::Invalid
                        } else {
                            Fate::Good
                        }
                    })
                    .collect()
            })
            .collect();
        FaultPlan {
            fates,
            truncate_last_frame: faults.truncate_last_frame,
        }
    }

    pub fn fate(&self, thread_index: usize, frame: u64) -> Fate {
        self.fates[thread_index][frame as usize]
    }

    /// Number of frames (over all threads) with the given fate.
    pub fn count(&self, fate: Fate) -> u64 {
        self.fates.iter().flatten().filter(|f| **f == fate).count() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::super::signal::fault_stream;
    use super::*;

    #[test]
    fn fractions_and_ranges_are_honoured() {
        let faults = Faults {
            invalid_fraction: 0.1,
            missing_fraction: 0.05,
            invalid_ranges_s: vec![[1.0, 1.5]],
            missing_ranges_s: vec![[2.0, 2.25]],
            truncate_last_frame: false,
        };
        let fps = 1000;
        let plan = FaultPlan::new(&faults, 3, fault_stream(0), 2, 20_000, fps);
        // Ranges: frames 1000..1500 are not good; 2000..2250 all missing.
        for th in 0..2 {
            assert!((1000..1500).all(|f| plan.fate(th, f) != Fate::Good));
            assert!((2000..2250).all(|f| plan.fate(th, f) == Fate::Missing));
        }
        // Outside ranges: binomial fractions (n = 2×19 250; σ ≈ 0.0011, 0.0015).
        let outside = |fate| {
            (0..2)
                .flat_map(|th| (0..20_000u64).map(move |f| (th, f)))
                .filter(|&(_, f)| !(1000..1500).contains(&f) && !(2000..2250).contains(&f))
                .filter(|&(th, f)| plan.fate(th, f) == fate)
                .count() as f64
                / 38_500.0
        };
        assert!((outside(Fate::Missing) - 0.05).abs() < 0.006);
        // Invalid given not missing: 0.95 × 0.1.
        assert!((outside(Fate::Invalid) - 0.095).abs() < 0.008);
        assert_eq!(
            plan,
            FaultPlan::new(&faults, 3, fault_stream(0), 2, 20_000, fps)
        );
    }
}
