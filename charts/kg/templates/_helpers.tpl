{{/* Names and labels. */}}
{{- define "kg.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kg.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "kg.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "kg.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "kg.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kg.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kg.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "kg.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "kg.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kg.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "kg.secretName" -}}
{{- default (include "kg.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/* Settings that are secrets: they go to the Secret, never to the ConfigMap. */}}
{{- define "kg.secretKeys" -}}
hook_secret token_key gitlab_token git_token store_password event_log_url search_url
{{- end }}

{{/* Settings the chart sets itself, from the pod's layout. */}}
{{- define "kg.managedKeys" -}}
host port data_dir
{{- end }}

{{/* Where KG_DATA_DIR is mounted in every pod. */}}
{{- define "kg.dataDir" -}}
/var/lib/kg
{{- end }}

{{/* A setting's value as an environment variable holds it (whole numbers without exponent). */}}
{{- define "kg.envValue" -}}
{{- if kindIs "string" . }}{{ . }}{{ else }}{{ toJson . }}{{ end }}
{{- end }}

{{/*
Refuse values that cannot work: no default secrets, secrets never in the ConfigMap, a fleet
only on shared backends (one pod's files cannot be shared by many).
*/}}
{{- define "kg.validate" -}}
{{- $mode := .Values.mode }}
{{- if not (has $mode (list "embedded" "fleet")) }}
{{- fail (printf "mode must be embedded or fleet, not %q" $mode) }}
{{- end }}
{{- $secretKeys := splitList " " (include "kg.secretKeys" .) }}
{{- $managed := splitList " " (include "kg.managedKeys" .) }}
{{- range $key, $value := .Values.config }}
{{- if has $key $secretKeys }}
{{- fail (printf "config.%s is a secret (KG_%s): set it in secrets.%s, never in the ConfigMap" $key (upper $key) $key) }}
{{- end }}
{{- if hasPrefix "sessions_" $key }}
{{- fail (printf "config.%s (KG_%s) comes from the `sessions` values; set it there" $key (upper $key)) }}
{{- end }}
{{- if has $key $managed }}
{{- fail (printf "config.%s (KG_%s) is set by the chart from the pod's layout; remove it" $key (upper $key)) }}
{{- end }}
{{- end }}
{{- range $key, $value := .Values.secrets }}
{{- if and (ne $key "existingSecret") (not (has $key $secretKeys)) }}
{{- fail (printf "secrets.%s is not one of kg's secret settings (%s)" $key (join ", " $secretKeys)) }}
{{- end }}
{{- end }}
{{- $s := .Values.secrets }}
{{- if $s.existingSecret }}
{{- range $key := $secretKeys }}
{{- if index $s $key }}
{{- fail (printf "secrets.%s is set together with secrets.existingSecret: put KG_%s in that Secret instead" $key (upper $key)) }}
{{- end }}
{{- end }}
{{- else }}
{{- $hint := "(or name a Secret holding the KG_* keys in secrets.existingSecret)" }}
{{- $hook := required (printf "secrets.hook_secret is required: kg has no default webhook secret %s" $hint) $s.hook_secret }}
{{- if lt (len $hook) 32 }}
{{- fail "secrets.hook_secret must be at least 32 characters" }}
{{- end }}
{{- $_ := required (printf "secrets.token_key is required: a Fernet key for stored access tokens %s" $hint) $s.token_key }}
{{- if eq $mode "fleet" }}
{{- range $key := list "event_log_url" "search_url" }}
{{- $url := required (printf "secrets.%s is required in fleet mode: postgresql://user:password@host:5432/database %s" $key $hint) (index $s $key) }}
{{- if not (hasPrefix "postgresql://" $url) }}
{{- fail (printf "secrets.%s must be a postgresql:// URL in fleet mode: every pod shares it" $key) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- if eq $mode "fleet" }}
{{- $store := .Values.config.store_url | default "" }}
{{- if not (or (hasPrefix "http://" $store) (hasPrefix "https://" $store)) }}
{{- fail "config.store_url must be a SPARQL store server's http(s) URL in fleet mode: the embedded store takes one writer" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "kg.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "kg.httpProbe" -}}
httpGet:
  path: {{ .path }}
  port: http
periodSeconds: {{ .periodSeconds }}
timeoutSeconds: {{ .timeoutSeconds }}
failureThreshold: {{ .failureThreshold }}
{{- end }}

{{/*
One Deployment. Takes a dict: root (the chart's context), component, command (a list), http
(whether it serves HTTP, hence ports and probes), replicas, autoscaling, resources,
recreate (one pod at a time: the embedded store takes one process), data (the volume for
KG_DATA_DIR), grace (termination grace seconds, optional).
*/}}
{{- define "kg.deployment" -}}
{{- $root := .root }}
{{- $v := $root.Values }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "kg.fullname" $root }}-{{ .component }}
  labels:
    {{- include "kg.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  {{- if not (and .autoscaling .autoscaling.enabled) }}
  replicas: {{ .replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  {{- if .recreate }}
  strategy:
    type: Recreate
  {{- end }}
  selector:
    matchLabels:
      {{- include "kg.selectorLabels" $root | nindent 6 }}
      app.kubernetes.io/component: {{ .component }}
  template:
    metadata:
      annotations:
        checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
        checksum/secret: {{ include (print $root.Template.BasePath "/secret.yaml") $root | sha256sum }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      labels:
        {{- include "kg.labels" $root | nindent 8 }}
        app.kubernetes.io/component: {{ .component }}
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "kg.serviceAccountName" $root }}
      {{- /* only the roles that start, read and cull sessions talk to the Kubernetes API */}}
      automountServiceAccountToken: {{ if and (has .component (list "serve" "api" "scheduler")) (include "kg.sessionsOnKubernetes" $root) }}true{{ else }}false{{ end }}
      {{- with $v.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $v.podSecurityContext | nindent 8 }}
      {{- with .grace }}
      terminationGracePeriodSeconds: {{ . }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "kg.image" $root | quote }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          command:
            {{- range .command }}
            - {{ . | quote }}
            {{- end }}
          envFrom:
            - configMapRef:
                name: {{ include "kg.fullname" $root }}
            - secretRef:
                name: {{ include "kg.secretName" $root }}
          env:
            # git and Python want a writable home; the root filesystem is read-only
            - name: HOME
              value: /tmp
            {{- with .metricsPort }}
            # kg worker has no HTTP API: its metrics have a port of their own
            - name: KG_METRICS_PORT
              value: {{ . | quote }}
            {{- end }}
          {{- with .metricsPort }}
          ports:
            - name: metrics
              containerPort: {{ . }}
              protocol: TCP
          {{- end }}
          {{- if .http }}
          ports:
            - name: http
              containerPort: {{ $v.port }}
              protocol: TCP
          startupProbe:
            {{- include "kg.httpProbe" $v.probes.startup | nindent 12 }}
          livenessProbe:
            {{- include "kg.httpProbe" $v.probes.liveness | nindent 12 }}
          readinessProbe:
            {{- include "kg.httpProbe" $v.probes.readiness | nindent 12 }}
          {{- end }}
          resources:
            {{- toYaml .resources | nindent 12 }}
          securityContext:
            {{- toYaml $v.securityContext | nindent 12 }}
          volumeMounts:
            - name: data
              mountPath: {{ include "kg.dataDir" $root }}
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: data
          {{- toYaml .data | nindent 10 }}
        - name: tmp
          emptyDir:
            sizeLimit: {{ $v.tmpSizeLimit }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}

{{/*
"true" when sessions run on Kubernetes (the chart then binds the sessions Role), else "".
*/}}
{{- define "kg.sessionsOnKubernetes" -}}
{{- if and .Values.sessions.enabled (eq .Values.sessions.backend "kubernetes") }}true{{- end }}
{{- end }}
