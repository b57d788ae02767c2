//! The registry of protected persons and sites (PRODUCT §3.1).

use crate::geo::{Coordinate, Polygon};
use crate::ids::{OrgId, PersonId, SiteId};
use crate::{ValidationError, text};
use serde::{Deserialize, Serialize};
use time::Date;

/// Protection level: A is the highest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ProtectionLevel {
    /// Highest protection.
    A,
    /// Elevated protection.
    B,
    /// Standard protection.
    C,
}

/// Where a protected person is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonStatus {
    /// In the host country.
    InCountry,
    /// On leave abroad.
    OnLeave,
    /// Left the project.
    Departed,
}

/// Personal data, encrypted at rest. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonalData {
    /// Passport number.
    pub passport_number: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// Date of birth.
    pub date_of_birth: Option<Date>,
    /// Home address.
    pub home_address: Option<String>,
}

impl PersonalData {
    /// Validates the fields (bounded lengths, plausible formats).
    pub fn new(
        passport_number: Option<&str>,
        phone: Option<&str>,
        date_of_birth: Option<Date>,
        home_address: Option<&str>,
        today: Date,
    ) -> Result<Self, ValidationError> {
        let passport_number = match passport_number {
            None => None,
            Some(p) => {
                let p = text::optional("/personal_data/passport_number", p, 20)?;
                if let Some(v) = &p
                    && !v.chars().all(|c| c.is_ascii_alphanumeric())
                {
                    return Err(ValidationError::new(
                        "/personal_data/passport_number",
                        "a passport number is letters and digits only",
                    ));
                }
                p.map(|v| v.to_ascii_uppercase())
            }
        };
        let phone = match phone {
            None => None,
            Some(p) => {
                let p = text::optional("/personal_data/phone", p, 32)?;
                if let Some(v) = &p {
                    let digits = v.chars().filter(char::is_ascii_digit).count();
                    let allowed = v.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
                    if !allowed || !(5..=15).contains(&digits) {
                        return Err(ValidationError::new(
                            "/personal_data/phone",
                            "a phone number has 5 to 15 digits and may use '+', spaces, '-', '(' and ')'",
                        ));
                    }
                }
                p
            }
        };
        if let Some(dob) = date_of_birth
            && (dob > today || dob.year() < 1900)
        {
            return Err(ValidationError::new(
                "/personal_data/date_of_birth",
                "the date of birth must be between 1900-01-01 and today",
            ));
        }
        let home_address = match home_address {
            None => None,
            Some(a) => text::optional("/personal_data/home_address", a, 300)?,
        };
        Ok(Self {
            passport_number,
            phone,
            date_of_birth,
            home_address,
        })
    }
}

/// A protected person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectedPerson {
    /// Identifier.
    pub id: PersonId,
    /// Everything but the id and version.
    pub draft: PersonDraft,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// The validated content of a protected person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonDraft {
    /// Full name.
    pub full_name: String,
    /// Nationality, as a free-text country name or code.
    pub nationality: Option<String>,
    /// Employer organisation (a company).
    pub employer_org_id: OrgId,
    /// Assigned site.
    pub assigned_site_id: Option<SiteId>,
    /// Protection level.
    pub protection_level: ProtectionLevel,
    /// Status.
    pub status: PersonStatus,
    /// Personal data (encrypted at rest).
    pub personal_data: PersonalData,
}

impl PersonDraft {
    /// Validates the plain fields; `personal_data` is validated by [`PersonalData::new`].
    pub fn new(
        full_name: &str,
        nationality: Option<&str>,
        employer_org_id: OrgId,
        assigned_site_id: Option<SiteId>,
        protection_level: ProtectionLevel,
        status: PersonStatus,
        personal_data: PersonalData,
    ) -> Result<Self, ValidationError> {
        Ok(Self {
            full_name: text::required("/full_name", full_name, 200)?,
            nationality: match nationality {
                None => None,
                Some(n) => text::optional("/nationality", n, 64)?,
            },
            employer_org_id,
            assigned_site_id,
            protection_level,
            status,
            personal_data,
        })
    }
}

/// What a site is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    /// A project (construction) site.
    ProjectSite,
    /// A residence of protected persons.
    Residence,
    /// An office.
    Office,
    /// An airport.
    Airport,
    /// A sea port.
    Port,
}

/// Security posture of a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecurityPosture {
    /// Normal operations.
    Normal,
    /// Heightened vigilance.
    Elevated,
    /// High threat: movements restricted.
    High,
    /// Lockdown: no movements in or out.
    Lockdown,
}

/// A site.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    /// Identifier.
    pub id: SiteId,
    /// Everything but the id and version.
    pub draft: SiteDraft,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// The validated content of a site.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteDraft {
    /// Organisation responsible for the site.
    pub owner_org_id: OrgId,
    /// Display name.
    pub name: String,
    /// Kind.
    pub kind: SiteKind,
    /// Reference point (entrance or centre).
    pub location: Coordinate,
    /// Optional perimeter.
    pub perimeter: Option<Polygon>,
    /// Posture.
    pub posture: SecurityPosture,
    /// Free-text notes.
    pub notes: Option<String>,
}

impl SiteDraft {
    /// Validates the text fields; coordinates and polygon are already parsed values.
    pub fn new(
        owner_org_id: OrgId,
        name: &str,
        kind: SiteKind,
        location: Coordinate,
        perimeter: Option<Polygon>,
        posture: SecurityPosture,
        notes: Option<&str>,
    ) -> Result<Self, ValidationError> {
        Ok(Self {
            owner_org_id,
            name: text::required("/name", name, 200)?,
            kind,
            location,
            perimeter,
            posture,
            notes: match notes {
                None => None,
                Some(n) => text::optional("/notes", n, 2000)?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn personal_data_validation() {
        let today = date!(2026 - 11 - 29);
        let ok = PersonalData::new(
            Some("x1234567"),
            Some("+92 300 1234567"),
            Some(date!(1980 - 01 - 02)),
            Some("1 Road"),
            today,
        );
        assert_eq!(ok.map(|p| p.passport_number), Ok(Some("X1234567".to_owned())));
        let bad_phone = PersonalData::new(None, Some("call me"), None, None, today);
        assert_eq!(bad_phone.map_err(|e| e.field), Err("/personal_data/phone".to_owned()));
        let future = PersonalData::new(None, None, Some(date!(2030 - 01 - 01)), None, today);
        assert!(future.is_err());
        let bad_passport = PersonalData::new(Some("AB-12"), None, None, None, today);
        assert!(bad_passport.is_err());
    }
}
