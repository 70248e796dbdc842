-- 0001 initial: every table of the ledger and one keyset index per listing.
-- Placeholders: {table} names resolve per namespace and dialect, {ix_*} index names,
-- {ID} {TEXT} {KEY_TEXT} {TS} {JSON} {BIGINT} {INT} column types ({KEY_TEXT}: text in
-- a key or index, bounded in MySQL, plain text elsewhere), and {NS_COL} / {NS_KEY}: the
-- namespace column and its place in every key, in dialects that keep namespaces as a
-- column (SQLite, MySQL) rather than a schema (PostgreSQL), where they are empty.
-- Unique constraints are the insert-if-absent conditions of a commit:
-- ids, users.email, and (events.subject, events.sequence).

CREATE TABLE {users} (
    {NS_COL}
    id {ID} NOT NULL,
    name {TEXT} NOT NULL,
    email {KEY_TEXT} NOT NULL,
    score {INT} NOT NULL,
    created_at {TS} NOT NULL,
    version {INT} NOT NULL,
    PRIMARY KEY ({NS_KEY}id),
    UNIQUE ({NS_KEY}email)
);

CREATE TABLE {card_requests} (
    {NS_COL}
    id {ID} NOT NULL,
    user_id {ID} NOT NULL,
    status {KEY_TEXT} NOT NULL,
    credit_limit_cents {BIGINT} NOT NULL,
    card_id {ID},
    created_at {TS} NOT NULL,
    decided_at {TS},
    version {INT} NOT NULL,
    PRIMARY KEY ({NS_KEY}id)
);
CREATE INDEX {ix_card_requests_order} ON {card_requests} ({NS_KEY}created_at, id);
CREATE INDEX {ix_card_requests_user} ON {card_requests} ({NS_KEY}user_id, created_at, id);
CREATE INDEX {ix_card_requests_status} ON {card_requests} ({NS_KEY}status, created_at, id);

CREATE TABLE {cards} (
    {NS_COL}
    id {ID} NOT NULL,
    user_id {ID} NOT NULL,
    request_id {ID} NOT NULL,
    status {TEXT} NOT NULL,
    credit_limit_cents {BIGINT} NOT NULL,
    balance_cents {BIGINT} NOT NULL,
    created_at {TS} NOT NULL,
    updated_at {TS} NOT NULL,
    version {INT} NOT NULL,
    PRIMARY KEY ({NS_KEY}id)
);
CREATE INDEX {ix_cards_order} ON {cards} ({NS_KEY}created_at, id);
CREATE INDEX {ix_cards_user} ON {cards} ({NS_KEY}user_id, created_at, id);

CREATE TABLE {transactions} (
    {NS_COL}
    id {ID} NOT NULL,
    card_id {ID} NOT NULL,
    user_id {ID} NOT NULL,
    "type" {TEXT} NOT NULL,
    amount_cents {BIGINT} NOT NULL,
    description {TEXT},
    balance_after_cents {BIGINT} NOT NULL,
    created_at {TS} NOT NULL,
    PRIMARY KEY ({NS_KEY}id)
);
CREATE INDEX {ix_transactions_card} ON {transactions} ({NS_KEY}card_id, created_at, id);

CREATE TABLE {events} (
    {NS_COL}
    id {ID} NOT NULL,
    source {TEXT} NOT NULL,
    "type" {TEXT} NOT NULL,
    subject {ID} NOT NULL,
    "time" {TS} NOT NULL,
    sequence {BIGINT} NOT NULL,
    data {JSON} NOT NULL,
    status {KEY_TEXT} NOT NULL,
    attempts {INT} NOT NULL,
    next_attempt_at {TS},
    last_error {TEXT},
    published_at {TS},
    PRIMARY KEY ({NS_KEY}id),
    UNIQUE ({NS_KEY}subject, sequence)
);
CREATE INDEX {ix_events_order} ON {events} ({NS_KEY}"time", id);
CREATE INDEX {ix_events_subject} ON {events} ({NS_KEY}subject, "time", id);
CREATE INDEX {ix_events_pending} ON {events} ({NS_KEY}status, subject, sequence);

CREATE TABLE {idempotency} (
    {NS_COL}
    scope {ID} NOT NULL,
    fingerprint {TEXT} NOT NULL,
    state {TEXT} NOT NULL,
    token {TEXT} NOT NULL,
    created_at {TS} NOT NULL,
    expires_at {TS} NOT NULL,
    locked_at {TS} NOT NULL,
    status_code {INT},
    response_body {TEXT},
    response_headers {JSON} NOT NULL,
    PRIMARY KEY ({NS_KEY}scope)
);
