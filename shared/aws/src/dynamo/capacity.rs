//! What DynamoDB bills: an item's size by its documented rules (docs: "DynamoDB item sizes and
//! formats"), the write units a write of it takes and the read units a read of it takes, and a
//! meter that adds them up for every request a client sends — the figures a table's cost
//! follows, which a local emulator does not report (moto answers a fixed number).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::batch_get_item::{BatchGetItemInput, BatchGetItemOutput};
use aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemInput;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemInput;
use aws_sdk_dynamodb::operation::get_item::{GetItemInput, GetItemOutput};
use aws_sdk_dynamodb::operation::put_item::PutItemInput;
use aws_sdk_dynamodb::operation::query::{QueryInput, QueryOutput};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemInput;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_types::config_bag::{Storable, StoreReplace};

use super::Item;

/// The size DynamoDB counts for an item: each attribute's name and value.
pub fn item_size(item: &std::collections::HashMap<String, AttributeValue>) -> u64 {
    item.iter()
        .map(|(name, value)| name.len() as u64 + value_size(value))
        .sum()
}

fn value_size(value: &AttributeValue) -> u64 {
    match value {
        AttributeValue::S(s) => s.len() as u64,
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len() as u64,
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        // A list or map takes 3 bytes, and each element one more.
        AttributeValue::L(items) => 3 + items.iter().map(|v| 1 + value_size(v)).sum::<u64>(),
        AttributeValue::M(map) => {
            3 + map
                .iter()
                .map(|(k, v)| 1 + k.len() as u64 + value_size(v))
                .sum::<u64>()
        }
        AttributeValue::Ss(set) => set.iter().map(|s| s.len() as u64).sum(),
        AttributeValue::Ns(set) => set.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(set) => set.iter().map(|b| b.as_ref().len() as u64).sum(),
        _ => 0,
    }
}

/// One byte per two significant digits (leading and trailing zeros trimmed), and one more.
fn number_size(n: &str) -> u64 {
    let mantissa = n.split(['e', 'E']).next().unwrap_or_default();
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len() as u64;
    significant.div_ceil(2) + 1
}

/// Write units of a standard write of `size` bytes: one per KB begun.
pub fn write_units(size: u64) -> u64 {
    size.div_ceil(1024).max(1)
}

/// Read units of reading `size` bytes in one request, in halves: one unit per 4 KB begun for a
/// strongly consistent read, half that for an eventually consistent one. A query is billed on
/// the sum of the items it returns, a GetItem or each item of a BatchGetItem on its own.
pub fn read_half_units(size: u64, consistent: bool) -> u64 {
    size.div_ceil(4096).max(1) * if consistent { 2 } else { 1 }
}

/// What the writes sent so far took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Items put, updated or deleted.
    pub items: u64,
    /// The size of the items put.
    pub bytes: u64,
    /// Write units: a transactional write takes twice a standard one. An update or delete is
    /// counted as one unit (their items here are leases, counters and parts of at most a few
    /// hundred bytes; DynamoDB bills them by the larger of the item's sizes).
    pub units: u64,
}

/// What the reads answered so far took.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Read {
    /// Items returned.
    pub items: u64,
    /// Their size.
    pub bytes: u64,
    /// Read units (an eventually consistent read takes half).
    pub units: f64,
}

/// Adds up the write units of every write request a client sends and the read units of every
/// read it is answered; attach it to the client's config with `interceptor`. A request
/// resubmitted (throttled, or items left unprocessed) is counted each time it is sent.
#[derive(Clone, Debug, Default)]
pub struct CapacityMeter {
    items: Arc<AtomicU64>,
    bytes: Arc<AtomicU64>,
    units: Arc<AtomicU64>,
    read_items: Arc<AtomicU64>,
    read_bytes: Arc<AtomicU64>,
    read_half_units: Arc<AtomicU64>,
}

/// Whether the read being sent is strongly consistent, kept for its answer.
#[derive(Clone, Copy, Debug)]
struct Consistent(bool);

impl Storable for Consistent {
    type Storer = StoreReplace<Self>;
}

impl CapacityMeter {
    pub fn written(&self) -> Written {
        Written {
            items: self.items.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            units: self.units.load(Ordering::Relaxed),
        }
    }

    pub fn read(&self) -> Read {
        Read {
            items: self.read_items.load(Ordering::Relaxed),
            bytes: self.read_bytes.load(Ordering::Relaxed),
            units: self.read_half_units.load(Ordering::Relaxed) as f64 / 2.0,
        }
    }

    /// One billed read of `items`, of `size` bytes together.
    fn add_read(&self, items: u64, size: u64, consistent: bool) {
        self.read_items.fetch_add(items, Ordering::Relaxed);
        self.read_bytes.fetch_add(size, Ordering::Relaxed);
        self.read_half_units
            .fetch_add(read_half_units(size, consistent), Ordering::Relaxed);
    }

    fn put(&self, item: Option<&Item>, unit_cost: u64) {
        let size = item.map_or(0, item_size);
        self.add(size, write_units(size) * unit_cost);
    }

    fn add(&self, bytes: u64, units: u64) {
        self.items.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.units.fetch_add(units, Ordering::Relaxed);
    }
}

impl Intercept for CapacityMeter {
    fn name(&self) -> &'static str {
        "CapacityMeter"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = context.input();
        let consistent = if let Some(get) = input.downcast_ref::<GetItemInput>() {
            get.consistent_read
        } else if let Some(query) = input.downcast_ref::<QueryInput>() {
            query.consistent_read
        } else if let Some(batch) = input.downcast_ref::<BatchGetItemInput>() {
            batch
                .request_items
                .as_ref()
                .and_then(|tables| tables.values().next())
                .and_then(|keys| keys.consistent_read)
        } else {
            None
        };
        cfg.interceptor_state()
            .store_put(Consistent(consistent.unwrap_or(false)));
        if let Some(put) = input.downcast_ref::<PutItemInput>() {
            self.put(put.item.as_ref(), 1);
        } else if input.downcast_ref::<UpdateItemInput>().is_some()
            || input.downcast_ref::<DeleteItemInput>().is_some()
        {
            self.add(0, 1);
        } else if let Some(batch) = input.downcast_ref::<BatchWriteItemInput>() {
            for request in batch
                .request_items
                .iter()
                .flat_map(|m| m.values().flatten())
            {
                match &request.put_request {
                    Some(put) => self.put(Some(&put.item), 1),
                    None => self.add(0, 1),
                }
            }
        } else if let Some(transaction) = input.downcast_ref::<TransactWriteItemsInput>() {
            for action in transaction.transact_items.iter().flatten() {
                match &action.put {
                    Some(put) => self.put(Some(&put.item), 2),
                    None => self.add(0, 2),
                }
            }
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let consistent = cfg.load::<Consistent>().is_some_and(|c| c.0);
        let Ok(output) = context.output_or_error() else {
            return Ok(());
        };
        if let Some(get) = output.downcast_ref::<GetItemOutput>() {
            let size = get.item.as_ref().map_or(0, item_size);
            self.add_read(u64::from(get.item.is_some()), size, consistent);
        } else if let Some(query) = output.downcast_ref::<QueryOutput>() {
            let items = query.items.as_deref().unwrap_or_default();
            let size = items.iter().map(item_size).sum();
            self.add_read(items.len() as u64, size, consistent);
        } else if let Some(batch) = output.downcast_ref::<BatchGetItemOutput>() {
            for item in batch.responses.iter().flat_map(|t| t.values().flatten()) {
                self.add_read(1, item_size(item), consistent);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    #[test]
    fn item_sizes_follow_dynamodbs_documented_rules() {
        // Names and values: "pk"+"INT#1" = 7, "n"+number 12300 (3 significant digits: 2+1) = 4,
        // "b"+3 raw bytes = 4, "t"+bool = 2, "l"+list(3 + (1+1) + (1+2)) = 9,
        // "m"+map(3 + (1+"k"+"vv")) = 8.
        let item: Item = [
            ("pk".to_string(), s("INT#1")),
            ("n".into(), AttributeValue::N("12300".into())),
            ("b".into(), AttributeValue::B(vec![1, 2, 3].into())),
            ("t".into(), AttributeValue::Bool(true)),
            ("l".into(), AttributeValue::L(vec![s("a"), s("bb")])),
            (
                "m".into(),
                AttributeValue::M([("k".to_string(), s("vv"))].into()),
            ),
        ]
        .into();
        assert_eq!(item_size(&item), 7 + 4 + 4 + 2 + 9 + 8);
        assert_eq!(number_size("-0.00120"), 2);
        assert_eq!(number_size("1E+5"), 2);
    }

    #[test]
    fn a_read_takes_a_unit_per_4_kb_begun_and_half_when_eventually_consistent() {
        assert_eq!(
            [0, 4096, 4097, 10_000].map(|size| read_half_units(size, true)),
            [2, 2, 4, 6]
        );
        assert_eq!(read_half_units(4097, false), 2);
    }

    #[test]
    fn a_write_takes_a_unit_per_kilobyte_begun() {
        assert_eq!(
            [0, 1, 1024, 1025, 3 * 1024].map(write_units),
            [1, 1, 1, 2, 3]
        );
    }
}
