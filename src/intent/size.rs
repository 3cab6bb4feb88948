//! Sizes with units, as the intent writes them: `8GiB`, `8192MiB`, `200G`.

/// Parses a size into MiB. Decimal and binary units are both read as binary (as Proxmox does:
/// `32G` in qm.conf means 32 GiB).
pub fn parse_mib(text: &str) -> Option<u64> {
    mib(text).ok()
}

/// A size in whole MiB, or why it cannot be one: qm.conf carries memory and disk sizes in whole
/// MiB, so `0GiB`, `512KiB` or `1.5MiB` cannot be written and must not silently become a default.
pub fn mib(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size like 8GiB, 8192MiB or 200G"))?;
    let factor = match unit.trim() {
        "K" | "KB" | "KiB" => 1.0 / 1024.0,
        "M" | "MB" | "MiB" => 1.0,
        "G" | "GB" | "GiB" => 1024.0,
        "T" | "TB" | "TiB" => 1024.0 * 1024.0,
        _ => {
            return Err(format!(
                "`{text}` has no unit: write it like 8GiB, 8192MiB or 200G"
            ));
        }
    };
    let mib = number * factor;
    if !mib.is_finite() || mib >= 1e12 {
        return Err(format!("`{text}` is too large"));
    }
    if mib < 1.0 {
        return Err(format!(
            "`{text}` is less than 1 MiB, the smallest size Proxmox can give a VM"
        ));
    }
    if mib.fract() != 0.0 {
        return Err(format!(
            "`{text}` is not a whole number of MiB ({mib} MiB): Proxmox sizes are whole MiB"
        ));
    }
    Ok(mib as u64)
}

/// Formats MiB the way qm writes disk sizes: `32G` when whole GiB, else `512M`.
pub fn qm_size(mib: u64) -> String {
    if mib.is_multiple_of(1024) {
        format!("{}G", mib / 1024)
    } else {
        format!("{mib}M")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_binary_and_decimal_units_as_binary() {
        assert_eq!(parse_mib("8GiB"), Some(8192));
        assert_eq!(parse_mib("8192MiB"), Some(8192));
        assert_eq!(parse_mib("200G"), Some(204_800));
        assert_eq!(parse_mib("1.5T"), Some(1_572_864));
        assert_eq!(parse_mib("8 GiB"), Some(8192));
    }

    #[test]
    fn rejects_unknown_units_and_zero() {
        assert_eq!(parse_mib("8 parsecs"), None);
        assert_eq!(parse_mib("0G"), None);
        assert_eq!(parse_mib(""), None);
    }

    #[test]
    fn sizes_proxmox_cannot_carry_are_errors_not_rounded() {
        assert!(mib("0GiB").unwrap_err().contains("less than 1 MiB"));
        assert!(mib("512KiB").unwrap_err().contains("less than 1 MiB"));
        assert!(mib("1.5MiB").unwrap_err().contains("whole number of MiB"));
        assert_eq!(mib("2048KiB"), Ok(2));
        assert_eq!(mib("1.5GiB"), Ok(1536));
    }

    #[test]
    fn formats_qm_sizes() {
        assert_eq!(qm_size(32 * 1024), "32G");
        assert_eq!(qm_size(1536), "1536M");
    }
}
