//! Exact integer shares of an amount: the arithmetic every agreement's payouts rest on.

/// `floor(amount × part / whole)` without overflow, for `part ≤ whole`. Uses
/// `amount = q × whole + r`, so `amount × part / whole = q × part + r × part / whole`, where `q × part ≤
/// amount` and `r × part < whole² < 2^128`: exact for every `u128` amount.
///
/// Returns `None` when `whole` is zero or `part > whole`.
pub fn share_of(amount: u128, part: u64, whole: u64) -> Option<u128> {
    if whole == 0 || part > whole {
        return None;
    }
    let (part, whole) = (u128::from(part), u128::from(whole));
    let (q, r) = (amount / whole, amount % whole);
    Some(q * part + r * part / whole)
}

/// Basis points: 10,000 is the whole.
pub const BPS_WHOLE: u64 = 10_000;

/// `floor(amount × bps / 10,000)`; `None` when `bps` is over 10,000.
pub fn bps_of(amount: u128, bps: u64) -> Option<u128> {
    share_of(amount, bps, BPS_WHOLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_at_the_edges() {
        assert_eq!(share_of(u128::MAX, u64::MAX, u64::MAX), Some(u128::MAX));
        assert_eq!(share_of(u128::MAX, 1, 2), Some(u128::MAX / 2));
        assert_eq!(share_of(10, 1, 3), Some(3));
        assert_eq!(share_of(10, 0, 3), Some(0));
        assert_eq!(share_of(10, 4, 3), None);
        assert_eq!(share_of(10, 0, 0), None);
        assert_eq!(bps_of(1_000, 2_500), Some(250));
        assert_eq!(bps_of(1, 10_001), None);
    }

    #[test]
    fn matches_wide_arithmetic_where_it_fits() {
        for amount in [0u128, 1, 7, 999, 1 << 70, (1 << 100) + 12345] {
            for (part, whole) in [(1u64, 1u64), (1, 3), (2, 3), (5, 7), (1 << 40, (1 << 41) + 3)] {
                let expect = amount.checked_mul(u128::from(part)).map(|p| p / u128::from(whole));
                if let Some(expect) = expect {
                    assert_eq!(share_of(amount, part, whole), Some(expect));
                }
            }
        }
    }
}
