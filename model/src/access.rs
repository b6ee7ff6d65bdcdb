//! Roles, scopes and who may read or write which scope.
//!
//! A scope is the unit of access and of sync: every document is bound to one
//! scope when it is created, for ever. The same rules run on the phone (to
//! refuse an edit before it is made) and on the server (which trusts no phone).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::coded_enum;
use crate::ids::{PersonId, VillageCode};

coded_enum! {
    /// What a person is in the campaign; decides the scopes they may use.
    pub enum Role as "role" {
        Member = "member", "党员", "Party member";
        Cadre = "cadre", "村两委成员", "Village cadre";
        Secretary = "secretary", "村党组织书记", "Village Party secretary";
        TownshipOfficer = "township_officer", "乡镇活动办公室", "Township office";
    }
}

/// A set of documents one audience may read.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Scope {
    /// The township's own records, read by every village and written only by
    /// the township office (the campaign plan, service matters' checklists,
    /// notices to all villages): `t/shared`.
    Township,
    /// A village's shared records (rectification, notices, …): `v/{village}/shared`.
    VillageShared(VillageCode),
    /// A village's cadre-only records (opinions, visits, …): `v/{village}/cadre`.
    VillageCadre(VillageCode),
    /// One member's own study log: `v/{village}/m/{person}`.
    MemberStudy {
        /// The member's village.
        village: VillageCode,
        /// The member.
        member: PersonId,
    },
}

impl Scope {
    /// The village the scope belongs to; `None` for the township's own.
    pub fn village(&self) -> Option<&VillageCode> {
        match self {
            Scope::Township => None,
            Scope::VillageShared(v) | Scope::VillageCadre(v) => Some(v),
            Scope::MemberStudy { village, .. } => Some(village),
        }
    }

    /// Parses `t/shared`, `v/{village}/shared`, `v/{village}/cadre` or
    /// `v/{village}/m/{person}`.
    pub fn parse(s: &str) -> Result<Scope, String> {
        let bad = || format!("`{s}` is not a scope name");
        let parts: Vec<&str> = s.split('/').collect();
        let village = |p: &str| VillageCode::new(p).map_err(|_| bad());
        match parts.as_slice() {
            ["t", "shared"] => Ok(Scope::Township),
            ["v", v, "shared"] => Ok(Scope::VillageShared(village(v)?)),
            ["v", v, "cadre"] => Ok(Scope::VillageCadre(village(v)?)),
            ["v", v, "m", p] => Ok(Scope::MemberStudy {
                village: village(v)?,
                member: PersonId::new(*p).map_err(|_| bad())?,
            }),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Township => f.write_str("t/shared"),
            Scope::VillageShared(v) => write!(f, "v/{v}/shared"),
            Scope::VillageCadre(v) => write!(f, "v/{v}/cadre"),
            Scope::MemberStudy { village, member } => write!(f, "v/{village}/m/{member}"),
        }
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scope({self})")
    }
}

impl TryFrom<String> for Scope {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Scope::parse(&s)
    }
}

impl From<Scope> for String {
    fn from(s: Scope) -> String {
        s.to_string()
    }
}

/// Who is acting: a person with a role, in a village (none for township officers).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The person.
    pub person: PersonId,
    /// Their role.
    pub role: Role,
    /// Their village; `None` for a township officer.
    pub village: Option<VillageCode>,
}

impl Principal {
    fn in_village(&self, v: Option<&VillageCode>) -> bool {
        v.is_some() && self.village.as_ref() == v
    }

    /// Everyone reads the township's own records; a member reads their
    /// village's shared records and their own study log; cadres and the
    /// secretary read all of their village; the township office reads every
    /// village. Nobody reads another village.
    pub fn can_read(&self, scope: &Scope) -> bool {
        match self.role {
            Role::TownshipOfficer => true,
            _ if *scope == Scope::Township => true,
            Role::Cadre | Role::Secretary => self.in_village(scope.village()),
            Role::Member => match scope {
                Scope::Township => true,
                Scope::VillageShared(v) => self.in_village(Some(v)),
                Scope::VillageCadre(_) => false,
                Scope::MemberStudy { village, member } => {
                    self.in_village(Some(village)) && *member == self.person
                }
            },
        }
    }

    /// Only the township office writes the township's own records. A member
    /// writes only their own study log; cadres and the secretary write
    /// all of their village; the township office writes villages' shared
    /// records (problems it issues, filing of rectification) and cadre-only
    /// records, where the record rules let it only withdraw (an opinion filed
    /// by mistake, which no village role may withdraw).
    pub fn can_write(&self, scope: &Scope) -> bool {
        match self.role {
            Role::TownshipOfficer => !matches!(scope, Scope::MemberStudy { .. }),
            Role::Cadre | Role::Secretary => self.in_village(scope.village()),
            Role::Member => matches!(
                scope,
                Scope::MemberStudy { village, member }
                    if self.in_village(Some(village)) && *member == self.person
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> VillageCode {
        VillageCode::new(s).unwrap_or_else(|e| panic!("{e}"))
    }
    fn p(s: &str) -> PersonId {
        PersonId::new(s).unwrap_or_else(|e| panic!("{e}"))
    }
    fn who(role: Role, village: Option<&str>, person: &str) -> Principal {
        Principal {
            person: p(person),
            role,
            village: village.map(v),
        }
    }

    #[test]
    fn scope_names_round_trip() {
        for s in [
            "t/shared",
            "v/dongcun/shared",
            "v/dongcun/cadre",
            "v/dongcun/m/p1",
        ] {
            assert_eq!(Scope::parse(s).map(|x| x.to_string()), Ok(s.to_string()));
        }
        for s in [
            "",
            "v//shared",
            "v/a/b",
            "x/a/shared",
            "v/a/m/",
            "v/a/m/p/q",
            "t",
            "t/cadre",
            "t/shared/x",
        ] {
            assert!(Scope::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn a_member_reads_shared_and_own_log_only() {
        let m = who(Role::Member, Some("a"), "p1");
        assert!(m.can_read(&Scope::VillageShared(v("a"))));
        assert!(!m.can_read(&Scope::VillageCadre(v("a"))));
        assert!(m.can_read(&Scope::MemberStudy {
            village: v("a"),
            member: p("p1")
        }));
        assert!(!m.can_read(&Scope::MemberStudy {
            village: v("a"),
            member: p("p2")
        }));
        assert!(!m.can_read(&Scope::VillageShared(v("b"))));
        assert!(!m.can_write(&Scope::VillageShared(v("a"))));
        assert!(m.can_write(&Scope::MemberStudy {
            village: v("a"),
            member: p("p1")
        }));
        assert!(!m.can_write(&Scope::MemberStudy {
            village: v("a"),
            member: p("p2")
        }));
    }

    #[test]
    fn cadres_use_their_whole_village_and_no_other() {
        for role in [Role::Cadre, Role::Secretary] {
            let c = who(role, Some("a"), "c1");
            let log = Scope::MemberStudy {
                village: v("a"),
                member: p("p2"),
            };
            assert!(c.can_read(&log) && c.can_write(&log));
            assert!(c.can_write(&Scope::VillageCadre(v("a"))));
            assert!(!c.can_read(&Scope::VillageCadre(v("b"))));
            assert!(!c.can_write(&Scope::VillageShared(v("b"))));
        }
    }

    #[test]
    fn the_township_reads_all_and_writes_no_members_log() {
        let t = who(Role::TownshipOfficer, None, "t1");
        assert!(t.can_read(&Scope::VillageCadre(v("b"))));
        assert!(t.can_write(&Scope::VillageShared(v("b"))));
        assert!(t.can_write(&Scope::VillageCadre(v("b"))));
        assert!(!t.can_write(&Scope::MemberStudy {
            village: v("b"),
            member: p("p1")
        }));
    }

    #[test]
    fn every_role_reads_the_township_scope_and_only_the_township_writes_it() {
        for role in [Role::Member, Role::Cadre, Role::Secretary] {
            for village in ["a", "b"] {
                let x = who(role, Some(village), "x1");
                assert!(x.can_read(&Scope::Township), "{role:?} of {village}");
                assert!(!x.can_write(&Scope::Township), "{role:?} of {village}");
            }
        }
        let t = who(Role::TownshipOfficer, None, "t1");
        assert!(t.can_read(&Scope::Township) && t.can_write(&Scope::Township));
        // A person of no village is in no village's scope.
        let nowhere = who(Role::Cadre, None, "c9");
        assert!(!nowhere.can_read(&Scope::VillageShared(v("a"))));
    }
}
