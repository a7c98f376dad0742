//! The paper key: the 32-byte master secret printed so that a person can type
//! it back in ten years, with a checksum on every line so a typo is caught on
//! the line where it was made.
//!
//! ```text
//! K1 0123 4567 89ab cdef  ck 1a2b
//! K2 …
//! K3 …
//! K4 …
//! ```
//! Each line carries 8 bytes of the secret as 16 hex digits in groups of 4,
//! then `ck` and a CRC-16/CCITT-FALSE (hex) over the line number byte followed
//! by those 8 bytes. Case and extra spaces are ignored when reading; lines
//! that do not start with `K1`..`K4` are ignored, so the whole printed sheet
//! can be fed back.

use crate::FormatError;

fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &b in data {
        crc ^= (b as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

fn line_crc(line_no: u8, bytes: &[u8]) -> u16 {
    let mut v = vec![line_no];
    v.extend_from_slice(bytes);
    crc16(&v)
}

/// The four `K1`..`K4` lines for a master secret.
pub fn encode_lines(secret: &[u8; 32]) -> Vec<String> {
    secret
        .chunks(8)
        .enumerate()
        .map(|(i, c)| {
            let h = hex::encode(c);
            let groups: Vec<&str> = (0..4).map(|g| &h[g * 4..g * 4 + 4]).collect();
            format!(
                "K{} {}  ck {:04x}",
                i + 1,
                groups.join(" "),
                line_crc(i as u8 + 1, c)
            )
        })
        .collect()
}

/// Read the master secret back from text holding the four lines.
pub fn decode(text: &str) -> Result<[u8; 32], FormatError> {
    let mut out = [0u8; 32];
    let mut seen = [false; 4];
    for raw in text.lines() {
        let line = raw.trim().to_ascii_lowercase();
        let Some(rest) = line.strip_prefix('k') else {
            continue;
        };
        let Some(n) = rest.chars().next().and_then(|c| c.to_digit(10)) else {
            continue;
        };
        if !(1..=4).contains(&n) {
            continue;
        }
        let rest = &rest[1..];
        let (body, ck) = rest
            .split_once("ck")
            .ok_or_else(|| bad(n, "missing `ck` checksum"))?;
        let digits: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let mut bytes = [0u8; 8];
        hex::decode_to_slice(&digits, &mut bytes)
            .map_err(|_| bad(n, "needs 16 hex digits (0-9, a-f) before `ck`"))?;
        let ck = u16::from_str_radix(ck.trim(), 16)
            .map_err(|_| bad(n, "checksum is not 4 hex digits"))?;
        if ck != line_crc(n as u8, &bytes) {
            return Err(bad(
                n,
                "checksum does not match: a digit on this line is mistyped",
            ));
        }
        let i = (n - 1) as usize;
        out[i * 8..i * 8 + 8].copy_from_slice(&bytes);
        seen[i] = true;
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(FormatError::Invalid {
            what: "paper key",
            field: "lines",
            detail: format!("line K{} is missing", missing + 1),
        });
    }
    Ok(out)
}

fn bad(n: u32, why: &str) -> FormatError {
    FormatError::Invalid {
        what: "paper key",
        field: "line",
        detail: format!("K{n}: {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_typo_detection() {
        let mut s = [0u8; 32];
        for (i, b) in s.iter_mut().enumerate() {
            *b = (i * 37 + 11) as u8;
        }
        let lines = encode_lines(&s);
        let text = format!("hokan paper key\n{}\n", lines.join("\n").to_uppercase());
        assert_eq!(decode(&text).unwrap(), s);
        // One mistyped digit on line 3 is caught and named.
        let mut typo = lines.clone();
        let l = &typo[2];
        let pos = 3;
        let c = if &l[pos..pos + 1] == "0" { "1" } else { "0" };
        typo[2] = format!("{}{}{}", &l[..pos], c, &l[pos + 1..]);
        let e = decode(&typo.join("\n")).unwrap_err().to_string();
        assert!(e.contains("K3"), "{e}");
        // A missing line is named.
        let e = decode(&lines[..3].join("\n")).unwrap_err().to_string();
        assert!(e.contains("K4 is missing"), "{e}");
    }
}
