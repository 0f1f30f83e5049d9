"""The SQLite event log's statements that are more than one line (bound with `:name`
parameters; nothing is ever spliced in)."""

from __future__ import annotations

ENQUEUE_PROJECT = """
INSERT INTO projects (project_id, path, clone_url, default_branch, visibility, target_commit,
                      state, available_at, last_event_id, updated_at)
VALUES (:project_id, :path, :clone_url, :default_branch, :visibility, :commit,
        'pending', :now, :event_id, :now)
ON CONFLICT (project_id) DO UPDATE SET
    -- a refresh (a body too large to read) says nothing about the project: keep what is known
    path = CASE WHEN excluded.path = '' THEN projects.path ELSE excluded.path END,
    clone_url = CASE WHEN excluded.path = '' THEN projects.clone_url ELSE excluded.clone_url END,
    default_branch = CASE WHEN excluded.path = ''
                     THEN projects.default_branch ELSE excluded.default_branch END,
    visibility = CASE WHEN excluded.path = '' THEN projects.visibility ELSE excluded.visibility END,
    target_commit = excluded.target_commit,
    last_event_id = excluded.last_event_id,
    state = CASE WHEN projects.state = 'running' THEN 'running' ELSE 'pending' END,
    attempts = CASE WHEN projects.state = 'running' THEN projects.attempts ELSE 0 END,
    -- idle: at once; queued: no later than it was, nor sooner than the previous job allows
    available_at = CASE WHEN projects.state = 'running' THEN projects.available_at
                        WHEN projects.state = 'pending' THEN min(projects.available_at,
                            max(excluded.available_at, coalesce(projects.claimed_at, 0) + :coalesce))
                        ELSE excluded.available_at END,
    updated_at = excluded.updated_at
"""

# A worker asks for work only between jobs: a lease it still holds was orphaned (its
# settling was lost with the disk or the connection), and it may take it back at once.
DUE = """
SELECT project_id, state, attempts, coalesce(last_seconds, 0) AS last_seconds FROM projects
WHERE ((state = 'pending' AND available_at <= :now)
       OR (state = 'running' AND (lease_until < :now OR lease_owner = :worker)))
  AND (:heavy_ok OR coalesce(last_seconds, 0) < :heavy)
ORDER BY claimed_at IS NOT NULL, claimed_at, available_at LIMIT 1
"""

LOAD = """
SELECT (SELECT count(*) FROM workers WHERE seen_at >= :now - :lease) AS live,
       (SELECT count(*) FROM projects WHERE state = 'running' AND lease_until >= :now
          AND (coalesce(last_seconds, 0) >= :heavy OR :now - claimed_at >= :heavy)) AS heavy
"""

TOUCH = """
INSERT INTO workers (name, seen_at) VALUES (:name, :now)
ON CONFLICT (name) DO UPDATE SET seen_at = excluded.seen_at
WHERE workers.seen_at < excluded.seen_at - :touch
"""

NEXT_DUE = """
SELECT min(CASE WHEN state = 'pending' THEN available_at ELSE lease_until END) FROM projects
WHERE (state = 'pending' AND available_at > :now) OR (state = 'running' AND lease_until > :now)
"""
