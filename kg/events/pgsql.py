"""The PostgreSQL event log's statements that are more than one line (bound with psycopg's
`%(name)s` parameters; nothing is ever spliced in)."""

from __future__ import annotations

ENQUEUE_PROJECT = """
INSERT INTO projects AS p (project_id, path, clone_url, default_branch, visibility, target_commit,
                           state, available_at, last_event_id, updated_at)
VALUES (%(project_id)s, %(path)s, %(clone_url)s, %(default_branch)s, %(visibility)s, %(commit)s,
        'pending', %(now)s, %(event_id)s, %(now)s)
ON CONFLICT (project_id) DO UPDATE SET
    -- a refresh (a body too large to read) says nothing about the project: keep what is known
    path = CASE WHEN excluded.path = '' THEN p.path ELSE excluded.path END,
    clone_url = CASE WHEN excluded.path = '' THEN p.clone_url ELSE excluded.clone_url END,
    default_branch = CASE WHEN excluded.path = '' THEN p.default_branch ELSE excluded.default_branch END,
    visibility = CASE WHEN excluded.path = '' THEN p.visibility ELSE excluded.visibility END,
    target_commit = excluded.target_commit,
    last_event_id = excluded.last_event_id,
    state = CASE WHEN p.state = 'running' THEN 'running' ELSE 'pending' END,
    attempts = CASE WHEN p.state = 'running' THEN p.attempts ELSE 0 END,
    -- idle: at once; queued: no later than it was, nor sooner than the previous job allows
    available_at = CASE WHEN p.state = 'running' THEN p.available_at
                        WHEN p.state = 'pending' THEN least(p.available_at,
                            greatest(excluded.available_at, coalesce(p.claimed_at, 0) + %(coalesce)s))
                        ELSE excluded.available_at END,
    updated_at = excluded.updated_at
"""

# A worker asks for work only between jobs: a lease it still holds was orphaned (its
# claim's answer or its settling was lost with a connection), and it may take it back at once.
DUE = """
SELECT project_id, state, attempts, coalesce(last_seconds, 0) AS last_seconds FROM projects
WHERE ((state = 'pending' AND available_at <= %(now)s)
       OR (state = 'running' AND (lease_until < %(now)s OR lease_owner = %(worker)s)))
  AND (%(heavy_ok)s OR coalesce(last_seconds, 0) < %(heavy)s)
ORDER BY claimed_at NULLS FIRST, available_at
LIMIT 1 FOR UPDATE SKIP LOCKED
"""

LOAD = """
SELECT (SELECT count(*) FROM workers WHERE seen_at >= %(now)s - %(lease)s) AS live,
       (SELECT count(*) FROM projects WHERE state = 'running' AND lease_until >= %(now)s
          AND (coalesce(last_seconds, 0) >= %(heavy)s OR %(now)s - claimed_at >= %(heavy)s)) AS heavy
"""

TOUCH = """
INSERT INTO workers AS w (name, seen_at) VALUES (%(name)s, %(now)s)
ON CONFLICT (name) DO UPDATE SET seen_at = excluded.seen_at
WHERE w.seen_at < excluded.seen_at - %(touch)s
"""

SETTLE = """
UPDATE projects SET state = CASE WHEN last_event_id > claimed_event_id THEN 'pending' ELSE %(to)s END,
    attempts = 0, lease_owner = NULL, lease_until = NULL,
    available_at = greatest(%(now)s, claimed_at + %(coalesce)s),
    last_seconds = %(now)s - claimed_at, message = %(message)s,
    ingested_commit = coalesce(%(commit)s, ingested_commit),
    warnings = coalesce(%(warnings)s, warnings), updated_at = %(now)s
WHERE project_id = %(project_id)s
"""

NEXT_DUE = """
SELECT min(CASE WHEN state = 'pending' THEN available_at ELSE lease_until END) FROM projects
WHERE (state = 'pending' AND available_at > %(now)s) OR (state = 'running' AND lease_until > %(now)s)
"""
