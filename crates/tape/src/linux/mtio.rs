//! The definitions of `include/uapi/linux/mtio.h` that hokan uses: the
//! `struct mtop` / `struct mtget` layouts, the MTIOCTOP / MTIOCGET ioctl
//! numbers (computed with the kernel's `_IOC` encoding), operation codes,
//! status bits and driver option bits.

/// `struct mtop` of `linux/mtio.h`: one MTIOCTOP operation.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MtOp {
    /// The operation (`MTREW`, `MTWEOF`, … in [`op`]).
    pub mt_op: libc::c_short,
    /// How many times, or its argument.
    pub mt_count: libc::c_int,
}

/// `struct mtget` of `linux/mtio.h`: the answer to MTIOCGET.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MtGet {
    /// Type of the device (`MT_ISSCSI2` = 0x72 for `st`).
    pub mt_type: libc::c_long,
    /// `st` puts the current partition here.
    pub mt_resid: libc::c_long,
    /// Block size (low 24 bits, 0 = variable) and density code (high 8 bits).
    pub mt_dsreg: libc::c_long,
    /// The generic status bits ([`gmt`]).
    pub mt_gstat: libc::c_long,
    /// Recovered errors since the last status (low 16 bits).
    pub mt_erreg: libc::c_long,
    /// Tape file number, -1 when unknown (`__kernel_daddr_t`, an `int`).
    pub mt_fileno: libc::c_int,
    /// Block number within the file, -1 when unknown.
    pub mt_blkno: libc::c_int,
}

/// MTIOCTOP operation codes (`mt_op`).
pub mod op {
    /// Space forward over `count` file marks; positioned after the last.
    pub const MTFSF: i16 = 1;
    /// Space backward over `count` file marks; positioned before the last.
    pub const MTBSF: i16 = 2;
    /// Space forward over `count` blocks.
    pub const MTFSR: i16 = 3;
    /// Space backward over `count` blocks.
    pub const MTBSR: i16 = 4;
    /// Write `count` file marks (synchronous: flushes the drive's buffer).
    pub const MTWEOF: i16 = 5;
    /// Rewind.
    pub const MTREW: i16 = 6;
    /// Rewind and unload (eject).
    pub const MTOFFL: i16 = 7;
    /// No operation; flushes the driver's buffers.
    pub const MTNOP: i16 = 8;
    /// Space to end of recorded data.
    pub const MTEOM: i16 = 12;
    /// Set the block size; 0 = variable.
    pub const MTSETBLK: i16 = 20;
    /// Set driver options (root only); see [`super::opt`].
    pub const MTSETDRVBUFFER: i16 = 24;
    /// Write `count` file marks without waiting for the drive's buffer.
    pub const MTWEOFI: i16 = 35;
}

/// Generic status bits of `mt_gstat` (`GMT_*`).
pub mod gmt {
    /// Just after a file mark (block 0 of a file other than the first).
    pub const EOF: u32 = 0x8000_0000;
    /// At the beginning of the tape.
    pub const BOT: u32 = 0x4000_0000;
    /// Past the early-warning point (end of tape).
    pub const EOT: u32 = 0x2000_0000;
    /// At a set mark (DDS).
    pub const SM: u32 = 0x1000_0000;
    /// At end of recorded data.
    pub const EOD: u32 = 0x0800_0000;
    /// The cartridge is write protected.
    pub const WR_PROT: u32 = 0x0400_0000;
    /// The drive is ready with a cartridge.
    pub const ONLINE: u32 = 0x0100_0000;
    /// No cartridge in the drive.
    pub const DR_OPEN: u32 = 0x0004_0000;
    /// Immediate report mode (buffered or asynchronous writes).
    pub const IM_REP_EN: u32 = 0x0001_0000;
    /// The drive asks for cleaning.
    pub const CLN: u32 = 0x0000_8000;
}

/// MTSETDRVBUFFER option codes and bits (`MT_ST_*`).
pub mod opt {
    /// Set the listed boolean options.
    pub const SETBOOLEANS: u32 = 0x3000_0000;
    /// Clear the listed boolean options.
    pub const CLEARBOOLEANS: u32 = 0x4000_0000;
    /// Buffered writes (fixed block mode).
    pub const BUFFER_WRITES: u32 = 0x1;
    /// Asynchronous writes.
    pub const ASYNC_WRITES: u32 = 0x2;
    /// Read ahead (fixed block mode).
    pub const READ_AHEAD: u32 = 0x4;
    /// Debugging output.
    pub const DEBUGGING: u32 = 0x8;
    /// Two file marks at close.
    pub const TWO_FM: u32 = 0x10;
    /// MTEOM by SCSI space-to-EOD (file number then unknown).
    pub const FAST_MTEOM: u32 = 0x20;
    /// Lock the door while open.
    pub const AUTO_LOCK: u32 = 0x40;
    /// Defaults only for writes.
    pub const DEF_WRITES: u32 = 0x80;
    /// Backspacing over several blocks allowed.
    pub const CAN_BSR: u32 = 0x100;
    /// Do not ask the drive for block limits.
    pub const NO_BLKLIMS: u32 = 0x200;
    /// Partition support.
    pub const CAN_PARTITIONS: u32 = 0x400;
    /// Logical block addresses for MTSEEK/MTIOCPOS.
    pub const SCSI2LOGICAL: u32 = 0x800;
    /// System V close semantics.
    pub const SYSV: u32 = 0x1000;
    /// Immediate (no-wait) positioning commands.
    pub const NOWAIT: u32 = 0x2000;
    /// SILI bit on variable-block reads.
    pub const SILI: u32 = 0x4000;
    /// Immediate file marks.
    pub const NOWAIT_EOF: u32 = 0x8000;
}

// The _IOC encoding of include/uapi/asm-generic/ioctl.h; powerpc, mips and
// sparc use 13 size bits and other direction values.
#[cfg(any(
    target_arch = "powerpc",
    target_arch = "powerpc64",
    target_arch = "mips",
    target_arch = "mips64",
    target_arch = "sparc",
    target_arch = "sparc64"
))]
mod ioc_arch {
    pub const SIZEBITS: u32 = 13;
    pub const READ: u32 = 2;
    pub const WRITE: u32 = 4;
}
#[cfg(not(any(
    target_arch = "powerpc",
    target_arch = "powerpc64",
    target_arch = "mips",
    target_arch = "mips64",
    target_arch = "sparc",
    target_arch = "sparc64"
)))]
mod ioc_arch {
    pub const SIZEBITS: u32 = 14;
    pub const READ: u32 = 2;
    pub const WRITE: u32 = 1;
}

/// `_IOC(dir, type, nr, size)`: `dir` in the top bits, then the size, the
/// type letter and the number.
pub const fn ioc(dir: u32, ty: u8, nr: u8, size: usize) -> u32 {
    (dir << (16 + ioc_arch::SIZEBITS)) | ((size as u32) << 16) | ((ty as u32) << 8) | nr as u32
}

/// `MTIOCTOP = _IOW('m', 1, struct mtop)`.
pub const MTIOCTOP: u32 = ioc(ioc_arch::WRITE, b'm', 1, std::mem::size_of::<MtOp>());
/// `MTIOCGET = _IOR('m', 2, struct mtget)`.
pub const MTIOCGET: u32 = ioc(ioc_arch::READ, b'm', 2, std::mem::size_of::<MtGet>());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn struct_layouts_match_mtio_h() {
        // struct mtop: short, padding, int.
        assert_eq!(std::mem::size_of::<MtOp>(), 8);
        // struct mtget: five longs and two ints.
        assert_eq!(
            std::mem::size_of::<MtGet>(),
            5 * std::mem::size_of::<libc::c_long>() + 8
        );
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn ioctl_numbers_on_x86_64() {
        // The values mt-st and the kernel use on x86_64.
        assert_eq!(MTIOCTOP, 0x4008_6d01);
        assert_eq!(MTIOCGET, 0x8030_6d02);
        // MTIOCPOS = _IOR('m', 3, struct mtpos { long }).
        assert_eq!(ioc(ioc_arch::READ, b'm', 3, 8), 0x8008_6d03);
    }

    #[test]
    fn ioc_places_each_field() {
        let n = ioc(ioc_arch::READ, b'm', 2, 0x30);
        assert_eq!(n & 0xff, 2);
        assert_eq!((n >> 8) & 0xff, u32::from(b'm'));
        assert_eq!((n >> 16) & ((1 << ioc_arch::SIZEBITS) - 1), 0x30);
        assert_eq!(n >> (16 + ioc_arch::SIZEBITS), ioc_arch::READ);
    }
}
