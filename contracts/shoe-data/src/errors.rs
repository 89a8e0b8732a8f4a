use consort_contract::StdError;
use std::fmt;

/// Every refusal, worded for the receipt.
#[derive(Debug)]
pub enum ContractError {
    Std(StdError),
    Invalid(String),
    UnknownCategory(String),
    AlreadyActivated(String),
    NoShoe(String),
    DeviceKeyTaken(String),
    NotAuthorised { committer: String, wearer: String },
    NoConsent { wearer: String, category: String },
    NoData { category: String },
    DatasetTooLarge,
    NotAParty(String),
    NothingOwed(String),
    Overflow,
}

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContractError::Std(e) => write!(f, "{e}"),
            ContractError::Invalid(m) => write!(f, "{m}"),
            ContractError::UnknownCategory(c) => write!(f, "category {c:?} is not offered by this program"),
            ContractError::AlreadyActivated(s) => write!(f, "shoe {s} is already activated"),
            ContractError::NoShoe(w) => write!(f, "{w} has not activated a shoe in this program"),
            ContractError::DeviceKeyTaken(k) => write!(f, "device key {k} already commits for another wearer"),
            ContractError::NotAuthorised { committer, wearer } => {
                write!(
                    f,
                    "{committer} may not commit data for {wearer}: only the wearer or a device key they authorised"
                )
            }
            ContractError::NoConsent { wearer, category } => {
                write!(f, "{wearer} has no live consent for {category}; data without consent is not accepted")
            }
            ContractError::NoData { category } => {
                write!(f, "no {category} data under live consent in that window; nothing to sell")
            }
            ContractError::DatasetTooLarge => write!(
                f,
                "the dataset has more than {} commitments; buy a narrower time window",
                crate::DATASET_COMMITMENTS_MAX
            ),
            ContractError::NotAParty(a) => write!(f, "{a} is neither the brand nor a wearer of this program"),
            ContractError::NothingOwed(a) => write!(f, "nothing is owed to {a} right now"),
            ContractError::Overflow => write!(f, "amounts overflow"),
        }
    }
}

impl From<StdError> for ContractError {
    fn from(e: StdError) -> Self {
        ContractError::Std(e)
    }
}
