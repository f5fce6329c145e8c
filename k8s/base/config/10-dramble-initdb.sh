# Sourced by the official MariaDB image's entrypoint (docker-entrypoint.sh) once, when it initialises an
# empty data directory; docker_process_sql and docker_sql_escape_string_literal come from there.
# Creates the site's database and user OUTSIDE the binary log (sql_log_bin=0). Every instance
# initialises its own volume, so anything written to the binlog here would be a different GTID on each
# instance: errant transactions, and the db-manager refuses to attach a replica that has them. (The
# image's own MARIADB_DATABASE/MARIADB_USER are logged, which is why they are not used.)
# Settings: DRAMBLE_DB_NAME, DRAMBLE_DB_USER (default dramble), DRAMBLE_DB_PASSWORD (required).
dramble_db="${DRAMBLE_DB_NAME:-dramble}"
dramble_user="${DRAMBLE_DB_USER:-dramble}"
dramble_password="$(docker_sql_escape_string_literal "${DRAMBLE_DB_PASSWORD:?DRAMBLE_DB_PASSWORD must be set}")"
docker_process_sql --database=mysql <<EOSQL
SET SESSION sql_log_bin = 0;
CREATE DATABASE IF NOT EXISTS \`${dramble_db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '${dramble_user}'@'%' IDENTIFIED BY '${dramble_password}';
GRANT ALL PRIVILEGES ON \`${dramble_db}\`.* TO '${dramble_user}'@'%';
EOSQL
unset dramble_db dramble_user dramble_password
