#include "src/storage/migrations.h"

#include "src/storage/inbox_move.h"

namespace scrm::storage {
namespace {

// 1: API keys of the REST API. Only the SHA-256 of a secret is kept (unique over all keys, so a
// revoked secret can never come back); a name is unique among keys that are not revoked, so it
// can be reused after a revoke.
constexpr char kMigration1CreateApiKeys[] = R"sql(
CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'marketing', 'sales', 'readonly')),
  prefix TEXT NOT NULL,
  secret_sha256 TEXT NOT NULL UNIQUE,
  created_at_ms INTEGER NOT NULL,
  revoked_at_ms INTEGER,
  last_used_at_ms INTEGER
);
CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at_ms IS NULL;
)sql";

// 2: the durable inbox and the ingest cursors. id is the time-ordered id the inbox writer
// assigns (rows append to the right edge of the table b-tree). Dedupe is enforced here, so it
// survives crashes: dedupe_hash is storage::DedupeHash(account_id, dedupe_key), unique together
// with occurred_at_ms and dedupe_seq. dedupe_seq is 0 unless another key had the same hash (then
// the next free number; the full key is compared on every hash hit, so a collision never drops
// an event). occurred_at_ms leads the index so that inserts land in a small, recent part of it
// instead of anywhere in a random-key b-tree; a re-delivery repeats the payload and therefore its
// CreateTime. Chosen by measurement (bench/inbox_bench: 500k rows, 16 submitters, 2 shared
// vCPUs, medians of 3): ~14k msg/s, p99 ~19 ms, against ~8.5k (p99 ~41 ms) for the hash alone
// and ~6.3k (p99 ~53 ms) for UNIQUE (account_id, dedupe_key) on text.
// received_at_ms serves replays by time range. ingest_cursors holds the last id each consumer
// has fully processed.
constexpr char kMigration2CreateInteractions[] = R"sql(
CREATE TABLE interactions (
  id INTEGER PRIMARY KEY,
  account_id TEXT NOT NULL,
  platform TEXT NOT NULL,
  kind TEXT NOT NULL,
  dedupe_key TEXT NOT NULL,
  dedupe_hash INTEGER NOT NULL,
  dedupe_seq INTEGER NOT NULL,
  msg_id TEXT NOT NULL,
  openid TEXT NOT NULL,
  unionid TEXT NOT NULL,
  external_userid TEXT NOT NULL,
  userid TEXT NOT NULL,
  chat_id TEXT NOT NULL,
  to_user TEXT NOT NULL,
  occurred_at_ms INTEGER NOT NULL,
  received_at_ms INTEGER NOT NULL,
  payload_json TEXT NOT NULL,
  raw_format TEXT NOT NULL,
  raw_body TEXT NOT NULL
);
CREATE UNIQUE INDEX interactions_dedupe
  ON interactions (occurred_at_ms, dedupe_hash, dedupe_seq);
CREATE INDEX interactions_received_at ON interactions (received_at_ms);
CREATE TABLE ingest_cursors (
  processor TEXT PRIMARY KEY,
  last_id INTEGER NOT NULL
);
)sql";

// 3: customer profiles (src/profiles). Identities resolve to customers: (platform, account_id,
// kind, value) is unique, indexed value first so that a lookup by the value alone (the API's
// search) uses it too; unionids are stored with account_id '' because they span accounts
// (PROTOCOL §5). customer_tags is keyed by (customer, tag) without a rowid (the row is the key)
// and indexed by (tag, customer) for segment queries. The timeline is unique per (customer,
// kind, interaction): that entry is also the key that makes an interaction's built-in effects
// happen once, and the same index serves window_count conditions (interaction ids are
// time-ordered) and a customer's pages. Every customer-keyed b-tree costs the ingest worker a
// dirty page per interaction, so there are as few as measured necessary (bench/profile_bench).
// applied_effects makes each rule action happen once: the worker records (interaction,
// "rule:<id>:<action>") in the transaction of the action, and a replay finds it and skips it.
// Tasks from an interaction are unique per (interaction, rule, title); hand-made tasks have a
// NULL interaction. followers hold WeCom member relations and OA subscriptions (userid '').
// merges keep what undo needs (undo_json); merge_exclusions stop an automatic unionid merge
// that was undone from happening again.
constexpr char kMigration3CreateProfiles[] = R"sql(
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  stage TEXT NOT NULL CHECK (stage IN ('new', 'engaged', 'customer', 'repeat', 'at_risk', 'lost')),
  stage_reason TEXT NOT NULL,
  stage_staff TEXT NOT NULL,
  owner_userid TEXT NOT NULL,
  attributes_json TEXT NOT NULL,
  first_interaction_at_ms INTEGER NOT NULL,
  last_interaction_at_ms INTEGER NOT NULL,
  interaction_count INTEGER NOT NULL,
  message_count INTEGER NOT NULL,
  event_count INTEGER NOT NULL,
  order_count INTEGER NOT NULL,
  paid_order_count INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  merged_into INTEGER REFERENCES customers (id)
);
CREATE TABLE identities (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers (id),
  platform TEXT NOT NULL,
  account_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('openid', 'external_userid', 'unionid', 'phone', 'external')),
  value TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE UNIQUE INDEX identities_key ON identities (value, kind, account_id, platform);
CREATE INDEX identities_customer ON identities (customer_id);
CREATE TABLE tag_groups (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  half_life_days INTEGER NOT NULL CHECK (half_life_days >= 0),
  threshold REAL NOT NULL,
  wecom_group_id TEXT NOT NULL
);
CREATE TABLE tags (
  id INTEGER PRIMARY KEY,
  group_id INTEGER NOT NULL REFERENCES tag_groups (id),
  name TEXT NOT NULL,
  threshold REAL,
  wecom_tag_id TEXT NOT NULL,
  oa_tag_id INTEGER NOT NULL,
  UNIQUE (group_id, name)
);
CREATE UNIQUE INDEX tags_wecom ON tags (wecom_tag_id) WHERE wecom_tag_id <> '';
CREATE TABLE customer_tags (
  customer_id INTEGER NOT NULL,
  tag_id INTEGER NOT NULL,
  score REAL NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('rule', 'manual', 'platform', 'import')),
  evidence_rule_id INTEGER NOT NULL,
  evidence_rule_version INTEGER NOT NULL,
  evidence_interaction_id INTEGER NOT NULL,
  PRIMARY KEY (customer_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX customer_tags_tag ON customer_tags (tag_id, customer_id);
CREATE TABLE timeline (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL,
  interaction_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  summary TEXT NOT NULL
);
CREATE UNIQUE INDEX timeline_entry ON timeline (customer_id, kind, interaction_id);
CREATE TABLE tasks (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL,
  owner_userid TEXT NOT NULL,
  title TEXT NOT NULL,
  due_at_ms INTEGER NOT NULL,
  source_interaction_id INTEGER,
  source_rule_id INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'done', 'cancelled')),
  created_at_ms INTEGER NOT NULL
);
CREATE UNIQUE INDEX tasks_source ON tasks (source_interaction_id, source_rule_id, title);
CREATE INDEX tasks_customer ON tasks (customer_id);
CREATE INDEX tasks_owner ON tasks (owner_userid, status, due_at_ms);
CREATE TABLE followers (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL,
  account_id TEXT NOT NULL,
  userid TEXT NOT NULL,
  state TEXT NOT NULL
    CHECK (state IN ('active', 'half', 'deleted_by_staff', 'deleted_by_customer', 'unsubscribed')),
  added_at_ms INTEGER NOT NULL,
  removed_at_ms INTEGER NOT NULL,
  is_owner INTEGER NOT NULL,
  UNIQUE (customer_id, account_id, userid)
);
CREATE TABLE applied_effects (
  interaction_id INTEGER NOT NULL,
  effect_key TEXT NOT NULL,
  PRIMARY KEY (interaction_id, effect_key)
) WITHOUT ROWID;
CREATE TABLE merges (
  id INTEGER PRIMARY KEY,
  survivor_id INTEGER NOT NULL,
  merged_id INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  reason TEXT NOT NULL,
  undone_at_ms INTEGER,
  undo_json TEXT NOT NULL
);
CREATE INDEX merges_survivor ON merges (survivor_id);
CREATE INDEX merges_merged ON merges (merged_id);
CREATE TABLE merge_exclusions (
  customer_a INTEGER NOT NULL,
  customer_b INTEGER NOT NULL,
  PRIMARY KEY (customer_a, customer_b)
) WITHOUT ROWID;
)sql";

// 4: the tag rules managed through the API. tag_rules holds each rule's latest version (the
// set in force is built from it at startup); tag_rule_versions keeps every version ever saved,
// so that a customer tag's evidence (rule id, version) stays explainable after the rule changed.
// The rule is JSON (tagger::TagRuleToJson); id, version and enabled are columns as well so that
// updates can compare-and-set on the version.
constexpr char kMigration4CreateTagRules[] = R"sql(
CREATE TABLE tag_rules (
  id INTEGER PRIMARY KEY CHECK (id > 0),
  version INTEGER NOT NULL CHECK (version >= 1),
  enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  rule_json TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE TABLE tag_rule_versions (
  rule_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  rule_json TEXT NOT NULL,
  saved_at_ms INTEGER NOT NULL,
  PRIMARY KEY (rule_id, version)
) WITHOUT ROWID;
)sql";

// 5: the outbox of platform jobs (enrichment, sync; docs/outbound.md "Outbox"). A job is a row
// first and a platform call later, so a crash between the profile change that needs it and
// the call loses nothing. dedupe_key is unique: the same job is never queued twice (a replayed
// interaction enqueues nothing new). A pending job is due at due_at_ms; claiming it moves
// due_at_ms to the end of the claim's lease and counts an attempt, so a job whose runner died
// is claimed again once the lease runs out, and attempts is the claim's token (a late report
// from an older claim changes nothing). outbox_due serves the claim query.
constexpr char kMigration5CreateOutbox[] = R"sql(
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  account_id TEXT NOT NULL,
  dedupe_key TEXT NOT NULL UNIQUE,
  payload_json TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed', 'unknown')),
  attempts INTEGER NOT NULL,
  due_at_ms INTEGER NOT NULL,
  claimed_at_ms INTEGER NOT NULL,
  last_outcome TEXT NOT NULL,
  last_errcode INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, due_at_ms);
)sql";

// Migration 6 rewrites the CHECK constraints that listed allowed values with IN into the same
// condition written with OR. It changes no stored row. SQLite evaluates a CHECK on every insert
// and update, and for an IN list of more than two constants it builds an ephemeral table each
// time. On the ingest worker's path (customers on every interaction, customer_tags on every tag
// change) that cost about a quarter of its instructions (callgrind, bench/profile_bench).
// Changing only a constraint's text is the schema edit the SQLite documentation allows through
// writable_schema (https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of Table
// Schema Changes"): no rebuild, so a large store migrates at once. RESET reloads this
// connection's schema; Migrate then bumps schema_version (MigrationFlags) so that other
// connections reload theirs.
constexpr char kMigration6ChecksWithoutInLists[] = R"sql(
PRAGMA writable_schema=ON;
UPDATE sqlite_schema SET sql = replace(sql, 'role IN (''admin'', ''marketing'', ''sales'', ''readonly'')',
    'role = ''admin'' OR role = ''marketing'' OR role = ''sales'' OR role = ''readonly''')
  WHERE type = 'table' AND name = 'api_keys';
UPDATE sqlite_schema SET sql = replace(sql, 'stage IN (''new'', ''engaged'', ''customer'', ''repeat'', ''at_risk'', ''lost'')',
    'stage = ''new'' OR stage = ''engaged'' OR stage = ''customer'' OR stage = ''repeat'' OR stage = ''at_risk'' OR stage = ''lost''')
  WHERE type = 'table' AND name = 'customers';
UPDATE sqlite_schema SET sql = replace(sql, 'kind IN (''openid'', ''external_userid'', ''unionid'', ''phone'', ''external'')',
    'kind = ''openid'' OR kind = ''external_userid'' OR kind = ''unionid'' OR kind = ''phone'' OR kind = ''external''')
  WHERE type = 'table' AND name = 'identities';
UPDATE sqlite_schema SET sql = replace(sql, 'source IN (''rule'', ''manual'', ''platform'', ''import'')',
    'source = ''rule'' OR source = ''manual'' OR source = ''platform'' OR source = ''import''')
  WHERE type = 'table' AND name = 'customer_tags';
UPDATE sqlite_schema SET sql = replace(sql, 'status IN (''open'', ''done'', ''cancelled'')',
    'status = ''open'' OR status = ''done'' OR status = ''cancelled''')
  WHERE type = 'table' AND name = 'tasks';
UPDATE sqlite_schema SET sql = replace(sql, 'state IN (''active'', ''half'', ''deleted_by_staff'', ''deleted_by_customer'', ''unsubscribed'')',
    'state = ''active'' OR state = ''half'' OR state = ''deleted_by_staff'' OR state = ''deleted_by_customer'' OR state = ''unsubscribed''')
  WHERE type = 'table' AND name = 'followers';
UPDATE sqlite_schema SET sql = replace(sql, 'state IN (''pending'', ''done'', ''failed'', ''unknown'')',
    'state = ''pending'' OR state = ''done'' OR state = ''failed'' OR state = ''unknown''')
  WHERE type = 'table' AND name = 'outbox';
PRAGMA writable_schema=RESET;
)sql";

// 7: what scrmd has put on the platforms (docs/outbound.md "Tag push"). One row per local tag
// that a "tagpush" job set on one target of a customer: a WeCom follow relation (account, the
// member's userid) or an OA follower (account, openid). platform_tag_id is the id that was sent
// (the corp tag id, or the OA tag id as text), so that a removal sends the id the platform has
// even when the mapping changed since. The push job compares the tags held now with these rows:
// only what scrmd added is ever removed, and a change undone before the job ran sends nothing.
constexpr char kMigration7CreateTagPushes[] = R"sql(
CREATE TABLE tag_pushes (
  customer_id INTEGER NOT NULL,
  account_id TEXT NOT NULL,
  target TEXT NOT NULL,
  tag_id INTEGER NOT NULL,
  platform_tag_id TEXT NOT NULL,
  pushed_at_ms INTEGER NOT NULL,
  PRIMARY KEY (customer_id, account_id, target, tag_id)
) WITHOUT ROWID;
)sql";

// 8: the durable inbox lives in a file of its own since 2026-11 (docs/architecture.md "Storage"):
// its writer connection, lock, page cache and WAL are no longer the profile worker's. Before the
// table is dropped, MoveInteractionsBeforeDrop copies its rows into the inbox file (ids and
// columns unchanged) and commits them there; this transaction then drops the table and records
// the migration. A crash in between leaves both copies, and the next start copies again (a row
// already there is checked, not inserted twice) before dropping. ingest_cursors stays here: the
// profile transaction advances the worker's cursor together with the profile changes.
constexpr char kMigration8DropInteractions[] = R"sql(
DROP TABLE interactions;
)sql";

// 9: whether a customer's score on a tag decays. Rule, platform and import scores decay with
// the group's half-life (1); a manual tag is held until removed (0) unless the caller asked for
// decay (docs/tagging.md "Manual tags"). Manual rows stored before are held from now on: the
// decay that made a default-weight manual tag fade a second after it was added was the defect
// this column fixes.
constexpr char kMigration9CustomerTagDecays[] = R"sql(
ALTER TABLE customer_tags ADD COLUMN decays INTEGER NOT NULL DEFAULT 1
  CHECK (decays = 0 OR decays = 1);
UPDATE customer_tags SET decays = 0 WHERE source = 'manual';
)sql";

// 10: the ingest worker's quarantine (docs/architecture.md "Ingest"): an inbox row the profile
// pipeline cannot apply for a reason other than a busy database (a payload it cannot decode, a
// merge cycle, ...) is put aside here, keyed by its interaction id, in the transaction that moves
// the worker's cursor past it, so that the rows after it go on. POST
// /api/v1/quarantine/{id}/reapply applies it again (and removes it on success). failures: how
// many times it failed (the first time and each reapply that failed since).
constexpr char kMigration10CreateIngestQuarantine[] = R"sql(
CREATE TABLE ingest_quarantine (
  interaction_id INTEGER PRIMARY KEY,
  account_id TEXT NOT NULL,
  error TEXT NOT NULL,
  failures INTEGER NOT NULL,
  quarantined_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
)sql";

// 11: the channel a customer came through (model::Customer::channel): the QR scene of an OA
// subscribe / SCAN or the State of a WeCom add_external_contact, set on the first attribution
// only (first touch). Segments select on it (channel:"expo2026"); customers from before keep ''.
constexpr char kMigration11CustomerChannel[] = R"sql(
ALTER TABLE customers ADD COLUMN channel TEXT NOT NULL DEFAULT '';
)sql";

// 12: saved segments (docs/segments.md, /api/v1/segments). segments holds each segment's latest
// version; a deleted one keeps its row with deleted_at_ms set (0 while live), so a name is unique
// among the live ones only (segments_live_name) and can be taken again after a delete.
// segment_versions keeps every version ever saved, like tag_rule_versions. The query is the text
// as the user wrote it (parsed again when used). 11 is the segment index's (issue 14).
constexpr char kMigration12CreateSegments[] = R"sql(
CREATE TABLE segments (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL CHECK (length(name) > 0),
  description TEXT NOT NULL,
  query TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version >= 1),
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  deleted_at_ms INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX segments_live_name ON segments (name) WHERE deleted_at_ms = 0;
CREATE TABLE segment_versions (
  segment_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  query TEXT NOT NULL,
  saved_at_ms INTEGER NOT NULL,
  PRIMARY KEY (segment_id, version)
) WITHOUT ROWID;
)sql";

// 13: message templates (campaigns/render, docs/templates.md). message_templates holds each
// template's latest version; message_template_versions every version ever saved, so that a sent
// message can name the template version it came from. content_json is the channel's content in
// the JSON form of campaigns/render/template_json.h (storage does not interpret it); name is
// unique; source says whether a version came from a file of the templates folder ('file') or
// the API ('api'): a shipped template is refreshed from its file only while its latest version
// is a file's.
constexpr char kMigration13CreateMessageTemplates[] = R"sql(
CREATE TABLE message_templates (
  id INTEGER PRIMARY KEY CHECK (id > 0),
  name TEXT NOT NULL UNIQUE,
  channel TEXT NOT NULL,
  content_json TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version >= 1),
  enabled INTEGER NOT NULL CHECK (enabled = 0 OR enabled = 1),
  source TEXT NOT NULL CHECK (source = 'file' OR source = 'api'),
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE TABLE message_template_versions (
  template_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  name TEXT NOT NULL,
  channel TEXT NOT NULL,
  content_json TEXT NOT NULL,
  enabled INTEGER NOT NULL CHECK (enabled = 0 OR enabled = 1),
  source TEXT NOT NULL CHECK (source = 'file' OR source = 'api'),
  saved_at_ms INTEGER NOT NULL,
  PRIMARY KEY (template_id, version)
) WITHOUT ROWID;
)sql";

// 14: campaigns (campaigns/engine, docs/campaigns.md; the shared design of issue 15 fixes these
// columns: other parts of the issue read them). campaigns holds each campaign with its state
// (compare-and-set on version); campaign_audit one row per lifecycle transition with who (the
// API key's name) and when; campaign_deliveries one row per planned or skipped recipient, frozen
// at launch, unique per idempotency_key "<campaign>:<customer>:<channel_key>" so that a freeze
// run again after a crash adds nothing twice; campaign_send_batches one row per platform call
// (the dispatcher's). State and kind values are checked in campaigns/engine, not here (migration
// 6: no IN lists in CHECKs).
constexpr char kMigration14CreateCampaigns[] = R"sql(
CREATE TABLE campaigns (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  account_id TEXT NOT NULL,
  segment_id INTEGER NOT NULL,
  segment_version INTEGER NOT NULL,
  template_id INTEGER NOT NULL,
  template_version INTEGER NOT NULL,
  state TEXT NOT NULL,
  schedule_at_ms INTEGER NOT NULL,
  options_json TEXT NOT NULL,
  created_by TEXT NOT NULL,
  approved_by TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  launched_at_ms INTEGER NOT NULL,
  completed_at_ms INTEGER NOT NULL,
  version INTEGER NOT NULL CHECK (version >= 1)
);
CREATE INDEX campaigns_state ON campaigns (state, schedule_at_ms);
CREATE TABLE campaign_audit (
  id INTEGER PRIMARY KEY,
  campaign_id INTEGER NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  actor TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  note TEXT NOT NULL
);
CREATE INDEX campaign_audit_campaign ON campaign_audit (campaign_id, id);
CREATE TABLE campaign_send_batches (
  id INTEGER PRIMARY KEY,
  campaign_id INTEGER NOT NULL,
  account_id TEXT NOT NULL,
  sender TEXT NOT NULL,
  state TEXT NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE,
  platform_msg_id TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  last_errcode INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE INDEX campaign_send_batches_campaign ON campaign_send_batches (campaign_id, state, id);
CREATE TABLE campaign_deliveries (
  id INTEGER PRIMARY KEY,
  campaign_id INTEGER NOT NULL,
  customer_id INTEGER NOT NULL,
  channel_key TEXT NOT NULL,
  sender TEXT NOT NULL,
  state TEXT NOT NULL,
  skip_reason TEXT NOT NULL,
  batch_id INTEGER NOT NULL,
  link_code TEXT NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE,
  last_errcode INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE INDEX campaign_deliveries_campaign ON campaign_deliveries (campaign_id, state, id);
CREATE INDEX campaign_deliveries_customer ON campaign_deliveries (customer_id, created_at_ms);
)sql";

// 15: contact channels (渠道活码: WeCom 联系我 contact ways, OA parametric QR codes) and the
// arrivals attributed to them (docs/campaigns.md "Channels and welcome messages"). A state is
// unique per account for good (a retired OA code cannot be deleted and still brings people:
// they are still counted). Tags and members are newline-separated lists ("group/name" per tag).
// An arrival is one follow relation that began through a channel, once per interaction; its
// removed_at_ms is set when that relation ends (channel stats: adds, deletes, net), and
// welcome_job is the dedupe key of its welcome message's outbox job ('' none): the job's row
// says what came of it, so the send path writes nothing here.
constexpr char kMigration15CreateContactChannels[] = R"sql(
CREATE TABLE contact_channels (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  account_id TEXT NOT NULL,
  platform TEXT NOT NULL CHECK (platform = 'wecom' OR platform = 'oa'),
  state TEXT NOT NULL,
  welcome_template_id INTEGER NOT NULL,
  default_tags TEXT NOT NULL,
  owner_rule TEXT NOT NULL,
  members TEXT NOT NULL,
  skip_verify INTEGER NOT NULL,
  temporary INTEGER NOT NULL,
  expires_in_s INTEGER NOT NULL,
  platform_id TEXT NOT NULL,
  qr_image TEXT NOT NULL,
  qr_content TEXT NOT NULL,
  retired INTEGER NOT NULL CHECK (retired = 0 OR retired = 1),
  retired_at_ms INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  UNIQUE (account_id, state)
);
CREATE TABLE contact_channel_arrivals (
  id INTEGER PRIMARY KEY,
  channel_id INTEGER NOT NULL,
  customer_id INTEGER NOT NULL,
  userid TEXT NOT NULL,
  interaction_id INTEGER NOT NULL,
  added_at_ms INTEGER NOT NULL,
  removed_at_ms INTEGER NOT NULL,
  welcome_job TEXT NOT NULL,
  UNIQUE (channel_id, interaction_id)
);
CREATE INDEX contact_channel_arrivals_by_customer
  ON contact_channel_arrivals (customer_id, removed_at_ms);
)sql";

// 16: the dispatcher reads and moves a send batch's deliveries by batch_id (campaigns/engine
// dispatcher, SendBatchStore): without this index each call scanned every delivery row. Partial:
// the freeze writes rows with batch_id 0, which it leaves out (and so costs the freeze nothing);
// the queries name "batch_id <> 0" so that SQLite may use it. Kept
// apart from 14 (the plan's) and 15 (contact channels); may be folded into 14 before release.
constexpr char kMigration16IndexDeliveryBatches[] = R"sql(
CREATE INDEX campaign_deliveries_batch ON campaign_deliveries (batch_id) WHERE batch_id <> 0;
)sql";

constexpr Migration kMigrations[] = {
    {1, "create_api_keys", kMigration1CreateApiKeys},
    {2, "create_interactions", kMigration2CreateInteractions},
    {3, "create_profiles", kMigration3CreateProfiles},
    {4, "create_tag_rules", kMigration4CreateTagRules},
    {5, "create_outbox", kMigration5CreateOutbox},
    {6, "checks_without_in_lists", kMigration6ChecksWithoutInLists, true},
    {7, "create_tag_pushes", kMigration7CreateTagPushes},
    {8, "move_interactions_to_inbox_file", kMigration8DropInteractions, false,
     &MoveInteractionsBeforeDrop},
    {9, "customer_tag_decays", kMigration9CustomerTagDecays},
    {10, "create_ingest_quarantine", kMigration10CreateIngestQuarantine},
    {11, "customer_channel", kMigration11CustomerChannel},
    {12, "create_segments", kMigration12CreateSegments},
    {13, "create_message_templates", kMigration13CreateMessageTemplates},
    {14, "create_campaigns", kMigration14CreateCampaigns},
    {15, "create_contact_channels", kMigration15CreateContactChannels},
    {16, "index_campaign_delivery_batches", kMigration16IndexDeliveryBatches},
};

// The inbox file.

// 1: the durable inbox, as main migration 2 created it there, without ingest_cursors (it stays in
// the main file) and without its two indexes. received_at_ms: replays by time range read the ids
// of that time instead (InteractionStore::ReadRange). The unique dedupe index: the identity
// (occurred_at_ms, dedupe_hash, dedupe_seq) is unique in interaction_keys instead, filled in sorted
// batches, and inbox_meta.keys_indexed_upto names the last id whose key is there (inbox_keys.h says
// why).
constexpr char kInboxMigration1CreateInteractions[] = R"sql(
CREATE TABLE interactions (
  id INTEGER PRIMARY KEY,
  account_id TEXT NOT NULL,
  platform TEXT NOT NULL,
  kind TEXT NOT NULL,
  dedupe_key TEXT NOT NULL,
  dedupe_hash INTEGER NOT NULL,
  dedupe_seq INTEGER NOT NULL,
  msg_id TEXT NOT NULL,
  openid TEXT NOT NULL,
  unionid TEXT NOT NULL,
  external_userid TEXT NOT NULL,
  userid TEXT NOT NULL,
  chat_id TEXT NOT NULL,
  to_user TEXT NOT NULL,
  occurred_at_ms INTEGER NOT NULL,
  received_at_ms INTEGER NOT NULL,
  payload_json TEXT NOT NULL,
  raw_format TEXT NOT NULL,
  raw_body TEXT NOT NULL
);
CREATE TABLE interaction_keys (
  occurred_at_ms INTEGER NOT NULL,
  dedupe_hash INTEGER NOT NULL,
  dedupe_seq INTEGER NOT NULL,
  id INTEGER NOT NULL,
  PRIMARY KEY (occurred_at_ms, dedupe_hash, dedupe_seq)
) WITHOUT ROWID;
CREATE TABLE inbox_meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO inbox_meta (name, value) VALUES ('keys_indexed_upto', 0);
)sql";

constexpr Migration kInboxMigrations[] = {
    {1, "create_interactions", kInboxMigration1CreateInteractions},
};

}  // namespace

std::span<const Migration> AllMigrations() { return kMigrations; }

std::span<const Migration> InboxMigrations() { return kInboxMigrations; }

std::span<const Migration> MigrationsOf(Schema schema) {
  return schema == Schema::kInbox ? InboxMigrations() : AllMigrations();
}

}  // namespace scrm::storage
