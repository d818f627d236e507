//! Domain values every layer uses and none owns: ids, the platform and workspace, the
//! kind of a conversation, a point in time, schedules with their cron parser, and the directory of
//! people and conversations a platform answers. Nothing here reads a database, renders
//! a message or calls a platform; `store`, `app`, `scheduler`, `platform` and `http`
//! all import from here, and this module imports from none of them.

mod conversation;
mod cron;
pub mod directory;
mod ids;
pub mod schedule;
mod time;
mod workspace;

pub use conversation::ConversationKind;
pub use ids::{DebriefId, PersonId, ScheduleId, WorkspaceId};
pub use schedule::{Schedule, ScheduleError};
pub use time::Timestamp;
pub use workspace::{Platform, Workspace};
