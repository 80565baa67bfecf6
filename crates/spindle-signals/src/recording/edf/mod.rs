//! EDF, EDF+ (C and D), BDF and BDF+ (C and D), written to the specification at
//! edfplus.info: a fixed ASCII header, then data records each holding a fixed
//! number of samples of every signal; EDF stores 16-bit and BDF 24-bit
//! little-endian two's complement integers, converted to physical units with
//! each signal's gain and offset. Annotation signals carry time-stamped
//! annotation lists (TALs) and are not data channels.

mod header;
mod paged;
mod reader;
mod tal;
mod writer;

pub use paged::{PagedEdf, open_edf_paged};
pub use reader::read_edf;
pub use writer::{EdfWriteOptions, write_edf};
