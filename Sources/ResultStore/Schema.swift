/// Versioned schema. `PRAGMA user_version` holds the number of migrations applied; each migration runs in
/// the same transaction as the version bump, so a database is never half-migrated.
/// Append new migrations at the end; never edit a released one. Document every change in docs/SCHEMA.md.
enum Schema {
    static let migrations: [String] = [
        // Version 1: runs and their per-sample results.
        """
        CREATE TABLE runs (
            id            INTEGER PRIMARY KEY,
            application   TEXT    NOT NULL,
            recipe        TEXT    NOT NULL,
            recipe_path   TEXT,
            code_revision TEXT    NOT NULL DEFAULT 'unknown',
            seed          INTEGER NOT NULL,
            started_at    TEXT    NOT NULL,
            ended_at      TEXT,
            status        TEXT    NOT NULL DEFAULT 'running'
                                  CHECK (status IN ('running', 'completed', 'failed')),
            metrics       TEXT,
            notes         TEXT,
            error         TEXT
        );
        CREATE TABLE sample_weights (
            run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            step      INTEGER NOT NULL,
            sample_id INTEGER NOT NULL,
            weight    REAL    NOT NULL,
            PRIMARY KEY (run_id, step, sample_id)
        ) WITHOUT ROWID;
        CREATE TABLE weight_steps (
            run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            step         INTEGER NOT NULL,
            sample_count INTEGER NOT NULL,
            PRIMARY KEY (run_id, step)
        ) WITHOUT ROWID;
        CREATE TABLE corrected_labels (
            run_id          INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            sample_id       INTEGER NOT NULL,
            original_label  INTEGER,
            corrected_label INTEGER NOT NULL,
            distribution    TEXT,
            PRIMARY KEY (run_id, sample_id)
        ) WITHOUT ROWID;
        CREATE TABLE pruning_scores (
            run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            sample_id INTEGER NOT NULL,
            score     REAL    NOT NULL,
            PRIMARY KEY (run_id, sample_id)
        ) WITHOUT ROWID;
        CREATE TABLE metrics (
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            name   TEXT    NOT NULL,
            step   INTEGER NOT NULL,
            value  REAL,
            PRIMARY KEY (run_id, name, step)
        ) WITHOUT ROWID;
        CREATE TABLE checkpoints (
            id         INTEGER PRIMARY KEY,
            run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            step       INTEGER NOT NULL,
            path       TEXT,
            data       BLOB,
            created_at TEXT    NOT NULL,
            CHECK (path IS NOT NULL OR data IS NOT NULL)
        );
        CREATE INDEX checkpoints_by_run ON checkpoints (run_id, step);
        """,
        // Version 2: the dataset's own sample ids (`DataRecord.id`), mapped to the integer `sample_id`s.
        """
        CREATE TABLE samples (
            run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            sample_id INTEGER NOT NULL,
            key       TEXT    NOT NULL,
            split     TEXT,
            PRIMARY KEY (run_id, sample_id)
        ) WITHOUT ROWID;
        CREATE UNIQUE INDEX samples_by_key ON samples (run_id, key);
        """,
        // Version 3: named pruning scores (el2n, grand, forgetting, ...), each at a step. Rows of v2, one
        // unnamed score per sample, keep their values under the name `score` at step 0.
        """
        CREATE TABLE pruning_scores_v3 (
            run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            name      TEXT    NOT NULL,
            step      INTEGER NOT NULL,
            sample_id INTEGER NOT NULL,
            score     REAL    NOT NULL,
            PRIMARY KEY (run_id, name, step, sample_id)
        ) WITHOUT ROWID;
        INSERT INTO pruning_scores_v3 (run_id, name, step, sample_id, score)
            SELECT run_id, 'score', 0, sample_id, score FROM pruning_scores;
        DROP TABLE pruning_scores;
        ALTER TABLE pruning_scores_v3 RENAME TO pruning_scores;
        """,
        // Version 4: the mean weight per vocabulary token of a token-weighting run (continued pretraining).
        """
        CREATE TABLE token_weights (
            run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            step     INTEGER NOT NULL,
            token_id INTEGER NOT NULL,
            token    TEXT    NOT NULL,
            count    INTEGER NOT NULL,
            weight   REAL    NOT NULL,
            PRIMARY KEY (run_id, step, token_id)
        ) WITHOUT ROWID;
        """,
        // Version 5: the environment a run ran in (version, BLAS and its threads, MPI ranks, host, CPU, OS) as a JSON
        // object, written when the run starts. Runs recorded before keep NULL ("not recorded").
        """
        ALTER TABLE runs ADD COLUMN environment TEXT;
        """,
    ]

    static var latestVersion: Int { migrations.count }
}
