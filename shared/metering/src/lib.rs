//! Cost metering: what each user action costs on AWS, counted from the requests it makes.
//!
//! Decorators over every port ([`MeteredTable`], [`MeteredQueue`], [`MeteredTopic`],
//! [`MeteredBlobs`], [`MeteredPush`]) count what AWS bills for each call ([`units`]), and
//! whoever invokes a function records its Lambda invocation ([`Meter::record_invocation`]). Each
//! count is charged to the correlation ids of the [`Attribution`] in scope, so the cost of a user
//! action includes its asynchronous tail (fan-out, projectors). [`Prices`] turns units into
//! dollars. Nothing here knows an AWS SDK type or a domain; the same decorators wrap both adapter
//! families.

mod blobs;
mod messaging;
mod meter;
pub mod prices;
mod push;
mod table;
pub mod units;

pub use blobs::MeteredBlobs;
pub use messaging::{MeteredQueue, MeteredTopic};
pub use meter::{Attribution, Line, Meter, Service, Tally, Unit, Usage, BACKGROUND};
pub use prices::{Prices, PRICES_AS_OF};
pub use push::MeteredPush;
pub use table::MeteredTable;
