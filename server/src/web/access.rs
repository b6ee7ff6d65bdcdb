//! Who sees which village on the dashboard, decided by the sync's own rules
//! (`massline_model::access`), not by a copy of them.
//!
//! The dashboard counts every kind of record of a village, cadre-only ones
//! (opinions, visits, member files) among them, so a person sees a village
//! there exactly when they may read all of it: when they may read its
//! cadre-only scope. The township office reads every village; a secretary or
//! a cadre reads their own; a member reads no cadre-only scope and so has no
//! dashboard.

use massline_model::{Principal, Role, Scope, VillageCode};
use rusqlite::Transaction;

use crate::error::Error;
use crate::registry;

/// The scope whose readers see `village` on the dashboard.
fn whole_village(village: &VillageCode) -> Scope {
    Scope::VillageCadre(village.clone())
}

/// Whether `who` sees `village` on the dashboard.
pub fn may_see(who: &Principal, village: &VillageCode) -> bool {
    who.can_read(&whole_village(village))
}

/// Whether `who` may use the dashboard at all: the township office, and
/// whoever sees their own village there.
pub fn has_dashboard(who: &Principal) -> bool {
    who.role == Role::TownshipOfficer || who.village.as_ref().is_some_and(|v| may_see(who, v))
}

/// The villages `who` sees, with their names, in the registry's order:
/// those whose every record they may read, as the registry lists the
/// scopes they may read.
pub fn visible_villages(
    tx: &Transaction<'_>,
    who: &Principal,
) -> Result<Vec<(VillageCode, String)>, Error> {
    if !has_dashboard(who) {
        return Ok(Vec::new());
    }
    let readable = registry::readable_scopes(tx, who)?;
    Ok(registry::villages(tx)?
        .into_iter()
        .filter(|(v, _)| readable.contains(&whole_village(v)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use massline_model::PersonId;

    fn who(role: Role, village: Option<&str>) -> Principal {
        Principal {
            person: PersonId::new("p").unwrap_or_else(|e| panic!("{e}")),
            role,
            village: village.map(|v| VillageCode::new(v).unwrap_or_else(|e| panic!("{e}"))),
        }
    }

    #[test]
    fn the_township_sees_all_village_roles_their_own_members_nothing() {
        let a = VillageCode::new("a").unwrap_or_else(|e| panic!("{e}"));
        let b = VillageCode::new("b").unwrap_or_else(|e| panic!("{e}"));
        let township = who(Role::TownshipOfficer, None);
        assert!(has_dashboard(&township) && may_see(&township, &a) && may_see(&township, &b));
        for role in [Role::Secretary, Role::Cadre] {
            let cadre = who(role, Some("a"));
            assert!(has_dashboard(&cadre) && may_see(&cadre, &a) && !may_see(&cadre, &b));
        }
        let member = who(Role::Member, Some("a"));
        assert!(!has_dashboard(&member) && !may_see(&member, &a));
    }
}
