//! Who is calling, and Nova's default console policy.

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user's id or name.
    pub user_id: String,
    /// The project the caller acts in.
    pub project_id: String,
    /// Role names, lower case (`member`, `reader`, `admin`).
    pub roles: Vec<String>,
}

impl Identity {
    /// A caller with these roles.
    pub fn new(
        user_id: impl Into<String>,
        project_id: impl Into<String>,
        roles: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Identity {
            user_id: user_id.into(),
            project_id: project_id.into(),
            roles: roles.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether the caller holds `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r.eq_ignore_ascii_case(role))
    }

    /// Admins see every project and may read console auth tokens.
    pub fn is_admin(&self) -> bool {
        self.has_role("admin")
    }

    /// Whether the caller may see servers of `project_id` at all.
    /// Others get 404, as if the server did not exist.
    pub fn can_see_project(&self, project_id: &str) -> bool {
        self.is_admin() || self.project_id == project_id
    }

    /// Nova's default rule for creating a console: a member (or admin) of
    /// the server's project; a reader alone may not.
    pub fn can_create_console(&self, project_id: &str) -> bool {
        self.is_admin() || (self.project_id == project_id && self.has_role("member"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy() {
        let member = Identity::new("u", "p", ["member"]);
        let reader = Identity::new("u", "p", ["reader"]);
        let admin = Identity::new("admin", "other", ["admin"]);
        assert!(member.can_create_console("p"));
        assert!(!member.can_see_project("q"));
        assert!(reader.can_see_project("p"));
        assert!(!reader.can_create_console("p"));
        assert!(admin.can_create_console("p") && admin.can_see_project("p"));
    }
}
