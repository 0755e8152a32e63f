//! Why a calibration table could not be made.

use crate::fringe::fit::FitError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalError {
    /// `--manual-pcal SCAN` named no scan of the file.
    #[error("--manual-pcal: no scan {scan:?} in the file (scans: {known})")]
    NoSuchScan { scan: String, known: String },
    /// The calibrator scan has no baseline with a detected fringe in a subband.
    #[error("--manual-pcal {scan}: subband {subband}: no baseline has a detected fringe")]
    NoFringes { scan: String, subband: usize },
    /// A station of the scan is not tied to the reference station by
    /// detected fringes in a subband.
    #[error("--manual-pcal {scan}: subband {subband}: station {station} is not connected to reference station {reference} by detected fringes")]
    NotConnected {
        scan: String,
        subband: usize,
        station: String,
        reference: String,
    },
    #[error("--manual-pcal {scan}: polarisation product {pols} is cross-hand; station terms come from parallel hands (--stokes of RR, LL, XX or YY)")]
    CrossHand { scan: String, pols: String },
    #[error("--manual-pcal {scan}: reference station {station:?} has no baseline in the scan")]
    RefNotInScan { scan: String, station: String },
    /// `--pcal` with `--manual-pcal`: the reference has no tones.
    #[error("--manual-pcal {scan} with --pcal: reference station {station:?} has no phase-cal tones; give --ref a station with tones")]
    RefWithoutTones { scan: String, station: String },
    #[error("--manual-pcal {scan}: {source}")]
    Fit {
        scan: String,
        #[source]
        source: FitError,
    },
    /// Phase-cal tones that cannot give a phase.
    #[error("phase-cal of {station}, subband {subband}, pol {pol}: {why}")]
    BadTones {
        station: String,
        subband: usize,
        pol: char,
        why: String,
    },
}
