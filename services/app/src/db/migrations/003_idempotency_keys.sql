-- Idempotency-Key of the content API: a key is claimed ('pending') before a write and completed
-- ('done', with the response to replay) in the write's own transaction, so a new primary after a
-- failover knows exactly the keys whose writes it has. Rows past expires_at no longer count.
CREATE TABLE idempotency_keys (
  scope VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  idem_key VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  request_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  state ENUM('pending', 'done') NOT NULL DEFAULT 'pending',
  owner CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  locked_until DATETIME(3) NOT NULL,
  response_status SMALLINT UNSIGNED NULL,
  response MEDIUMTEXT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  expires_at DATETIME(3) NOT NULL,
  PRIMARY KEY (scope, idem_key),
  KEY idempotency_keys_expiry (scope, expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
