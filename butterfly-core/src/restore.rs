//! The [`Restorer`] trait: the writes a provider offers the restore engine.
//!
//! The engine (plan, order, remap, execute, verify) is provider-agnostic and works only
//! through this trait; the provider knows how to create or update one resource of a kind.

use async_trait::async_trait;

use crate::error::Result;
use crate::kind::ResourceKind;
use crate::resource::Resource;

/// Why one resource cannot be restored (a system app, a directory-sourced user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannotRestore(pub String);

/// The write half of a provider.
#[async_trait]
pub trait Restorer: Send + Sync {
    /// Whether this particular resource can be restored; the default accepts every resource
    /// of a kind whose [`restore_support`](ResourceKind::restore_support) allows it.
    fn check(
        &self,
        kind: &dyn ResourceKind,
        resource: &Resource,
    ) -> std::result::Result<(), CannotRestore> {
        let _ = resource;
        match kind.restore_support() {
            crate::kind::RestoreSupport::None { reason } => Err(CannotRestore(reason.to_string())),
            _ => Ok(()),
        }
    }

    /// Creates `resource` (whose references are already rewritten to target ids) and returns
    /// the new id in the target tenant.
    async fn create(&self, kind: &dyn ResourceKind, resource: &Resource) -> Result<String>;

    /// Updates the target resource `target_id` to match `resource` (references rewritten).
    async fn update(
        &self,
        kind: &dyn ResourceKind,
        target_id: &str,
        resource: &Resource,
    ) -> Result<()>;
}
