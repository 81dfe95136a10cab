-- A journal written by storyboard before schema versions (main at 6e8c7bb; PRAGMA user_version 0),
-- dumped with sqlite3 iterdump. The tests fill in @KEY@, @STORYBOARD@, @CLIP@ and "@CANONICAL@"
-- (and one points the rows at a served emulator's task: test_state.py).
BEGIN TRANSACTION;
CREATE TABLE assemblies (
    output TEXT PRIMARY KEY, key TEXT NOT NULL, size INTEGER NOT NULL, report TEXT NOT NULL,
    finished_at REAL NOT NULL);
CREATE TABLE generations (
    key TEXT PRIMARY KEY, namespace TEXT NOT NULL, storyboard TEXT NOT NULL,
    scene_id TEXT NOT NULL, canonical TEXT NOT NULL, state TEXT NOT NULL,
    task_id TEXT, result_url TEXT, clip_path TEXT, attempts INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0, credits REAL NOT NULL DEFAULT 0, error TEXT,
    created_at REAL NOT NULL, updated_at REAL NOT NULL, finished_at REAL);
INSERT INTO "generations" VALUES('@KEY@','offline','@STORYBOARD@','hello','{"canonical": "@CANONICAL@"}','done','task-0001','http://emulator.invalid/result/task-0001.mp4','@CLIP@',1,0,70.0,NULL,1.79570307734610128407e+09,1.79570307735440540318e+09,1.79570307735440540318e+09);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, storyboard TEXT NOT NULL, namespace TEXT NOT NULL,
    started_at REAL NOT NULL, finished_at REAL, status TEXT NOT NULL, summary TEXT);
INSERT INTO "runs" VALUES(1,'@STORYBOARD@','offline',1.79570307736192440986e+09,1.7957030773631248474e+09,'ok','{"ok": true}');
CREATE TABLE scenes (
    storyboard TEXT NOT NULL, namespace TEXT NOT NULL, scene_id TEXT NOT NULL,
    key TEXT NOT NULL, updated_at REAL NOT NULL,
    PRIMARY KEY (storyboard, namespace, scene_id));
INSERT INTO "scenes" VALUES('@STORYBOARD@','offline','hello','@KEY@',1.79570307735821437832e+09);
CREATE TABLE tasks (
    task_id TEXT PRIMARY KEY, key TEXT NOT NULL, attempt INTEGER NOT NULL,
    state TEXT NOT NULL, credits REAL NOT NULL DEFAULT 0, fail_code TEXT, fail_msg TEXT,
    created_at REAL NOT NULL, finished_at REAL);
INSERT INTO "tasks" VALUES('task-0001','@KEY@',1,'success',70.0,NULL,NULL,1.79570307734660625457e+09,1.79570307734726881975e+09);
CREATE TABLE uploads (
    namespace TEXT NOT NULL, content_hash TEXT NOT NULL, url TEXT NOT NULL, source TEXT,
    size INTEGER, uploaded_at REAL NOT NULL, expires_at REAL NOT NULL,
    PRIMARY KEY (namespace, content_hash));
INSERT INTO "uploads" VALUES('offline','@HASH@','http://emulator.invalid/f.png','refs/room.png',10,1.79570307734192204478e+09,1.0);
CREATE INDEX tasks_by_key ON tasks(key);
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('runs',1);
COMMIT;
