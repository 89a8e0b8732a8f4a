//! u128 amounts travel through JSON as decimal strings: JSON numbers lose precision past 2^53. The helper
//! lives in `consort-contract`, so contracts and clients write amounts the same way.

pub use consort_contract::u128_string;
