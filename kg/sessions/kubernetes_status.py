"""A session's state, read from what Kubernetes or the operator wrote in the resource's
status (never inferred from what kg asked for), and the session rebuilt from annotations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kg.sessions.base import Resources, Session, SessionState, SessionStatus
from kg.sessions.manifests import PREFIX

Manifest = dict[str, Any]

# AmaltheaSession `status.state` (its CRD's enum) to kg's states.
_AMALTHEA_STATES: dict[str, SessionState] = {
    "Running": "running",
    "RunningDegraded": "running",
    "NotReady": "starting",
    "Hibernated": "hibernated",
    "Failed": "failed",
    "Succeeded": "stopping",  # the session's program ended: it is on its way out
}


def _waiting_message(pod_status: Manifest) -> str:
    """Why a pod is not up yet: the first container waiting or terminated with a reason,
    else the first condition that is not true."""
    for key in ("initContainerStatuses", "containerStatuses"):
        for container in pod_status.get(key) or []:
            for phase in ("waiting", "terminated"):
                detail = (container.get("state") or {}).get(phase)
                if detail and detail.get("reason") and detail.get("reason") != "Completed":
                    text = f"{container.get('name', '?')}: {detail['reason']}"
                    return f"{text}: {detail['message']}" if detail.get("message") else text
    for condition in pod_status.get("conditions") or []:
        if condition.get("status") != "True" and condition.get("message"):
            return str(condition["message"])
    return ""


def pod_status(status: Manifest, total: int) -> SessionStatus:
    """From a pod's `status` (phase, container statuses); `total` from its spec."""
    phase = status.get("phase", "")
    containers = status.get("containerStatuses") or []
    ready = sum(1 for c in containers if c.get("ready"))
    total = total or len(containers)
    message = _waiting_message(status)
    state: SessionState
    if phase == "Running":
        state = "running" if total and ready == total else "starting"
    elif phase in ("Failed", "Succeeded"):
        state = "failed"
        message = message or status.get("message", "") or f"the session's pod {phase.lower()}"
    elif phase == "Unknown":
        state, message = "failed", message or "the session's node does not report"
    else:  # Pending, or no status written yet
        state = "starting"
    return SessionStatus(state, message, ready, total)


def amalthea_status(status: Manifest) -> SessionStatus:
    """From an AmaltheaSession's `status` (state, error, containerCounts)."""
    counts = status.get("containerCounts") or {}
    raw = status.get("state", "")
    state = _AMALTHEA_STATES.get(raw, "starting")
    message = str(status.get("error") or "")
    if raw == "RunningDegraded" and not message:
        message = "running degraded"
    return SessionStatus(state, message, int(counts.get("ready", 0)), int(counts.get("total", 0)))


def jupyter_server_status(status: Manifest) -> SessionStatus:
    """From a JupyterServer's `status.mainPod.status`, the pod status the operator copies."""
    main = ((status.get("mainPod") or {}).get("status")) or {}
    return pod_status(main, 0)


def stopping(metadata: Manifest) -> bool:
    return bool(metadata.get("deletionTimestamp"))


def created_at(metadata: Manifest) -> float:
    """Unix time the resource was created: the API server's timestamp, else kg's annotation."""
    stamp = metadata.get("creationTimestamp")
    if isinstance(stamp, datetime):
        return stamp.timestamp()
    if isinstance(stamp, str) and stamp:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    return float((metadata.get("annotations") or {}).get(f"{PREFIX}started", 0.0))


def session_from(metadata: Manifest, status: SessionStatus, url: str) -> Session:
    """The session the annotations of its resource describe."""
    notes: dict[str, str] = metadata.get("annotations") or {}
    labels: dict[str, str] = metadata.get("labels") or {}
    if stopping(metadata):
        status = SessionStatus("stopping", "deleting", status.ready_containers, status.total_containers)
    return Session(
        name=str(metadata["name"]),
        user=notes.get(f"{PREFIX}user", ""),
        project_id=int(labels.get(f"{PREFIX}project-id", "0")),
        project_path=notes.get(f"{PREFIX}project-path", ""),
        commit_sha=labels.get(f"{PREFIX}commit", ""),
        branch=notes.get(f"{PREFIX}branch", ""),
        image=notes.get(f"{PREFIX}image", ""),
        url=url,
        started=float(notes.get(f"{PREFIX}started", 0.0)),
        resources=Resources(
            cpu=float(notes.get(f"{PREFIX}cpu", 0.0)),
            memory=int(notes.get(f"{PREFIX}memory", 0)),
            gpu=int(notes.get(f"{PREFIX}gpu", 0)),
        ),
        status=status,
    )
