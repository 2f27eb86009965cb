{{/* The chart's name. */}}
{{- define "horde.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The prefix of every object: the release name, with "-horde" unless it
has it already (helm install horde ... gives horde-master, horde-worker). */}}
{{- define "horde.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "horde.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "horde.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: pass (list $ "master"). */}}
{{- define "horde.selectorLabels" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ include "horde.name" $ }}
app.kubernetes.io/instance: {{ $.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "horde.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "horde.authSecret" -}}
{{- .Values.auth.existingSecret | default (printf "%s-auth" (include "horde.fullname" .)) -}}
{{- end -}}

{{- define "horde.authKey" -}}
{{- if .Values.auth.existingSecret -}}{{ .Values.auth.existingSecretKey }}{{- else -}}token{{- end -}}
{{- end -}}

{{- define "horde.scriptConfigMap" -}}
{{- .Values.existingScriptConfigMap | default (printf "%s-script" (include "horde.fullname" .)) -}}
{{- end -}}

{{/* The master's address for the workers. */}}
{{- define "horde.masterAddr" -}}
{{- printf "%s-master:%d" (include "horde.fullname" .) (int .Values.service.port) -}}
{{- end -}}

{{/* The pod-level fields every horde pod shares. */}}
{{- define "horde.podCommon" -}}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end -}}

{{/* The environment of the master: token, web password, settings. */}}
{{- define "horde.masterEnv" -}}
{{- if not .Values.headless.enabled }}
- name: HORDE_MODE
  value: master
- name: HORDE_SCRIPT
  value: /etc/horde/script/{{ .Values.scriptName }}
{{- end }}
- name: HORDE_AUTH_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "horde.authSecret" . }}
      key: {{ include "horde.authKey" . }}
{{- if .Values.webAuth.existingSecret }}
- name: HORDE_WEB_AUTH
  valueFrom:
    secretKeyRef:
      name: {{ .Values.webAuth.existingSecret }}
      key: {{ .Values.webAuth.existingSecretKey }}
{{- end }}
{{- if and .Values.store.url .Values.store.existingSecret }}
{{- fail "store: give store.url or store.existingSecret, not both" }}
{{- end }}
{{- if .Values.store.existingSecret }}
- name: HORDE_STORE
  valueFrom:
    secretKeyRef:
      name: {{ .Values.store.existingSecret }}
      key: {{ .Values.store.existingSecretKey }}
{{- else if .Values.store.url }}
- name: HORDE_STORE
  value: {{ .Values.store.url | quote }}
{{- end }}
{{- with .Values.store.keep }}
- name: HORDE_STORE_KEEP
  value: {{ . | toString | quote }}
{{- end }}
- name: TARGET_HOST
  value: {{ .Values.targetHost | quote }}
{{- range $k, $v := .Values.settings }}
- name: {{ $k }}
  value: {{ $v | toString | quote }}
{{- end }}
{{- with .Values.master.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The environment of a worker. */}}
{{- define "horde.workerEnv" -}}
- name: HORDE_MODE
  value: worker
- name: HORDE_MASTER
  value: {{ include "horde.masterAddr" . }}
- name: HORDE_AUTH_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "horde.authSecret" . }}
      key: {{ include "horde.authKey" . }}
{{- if .Values.headless.enabled }}
- name: HORDE_RECONNECT_TIMEOUT
  value: {{ .Values.headless.reconnectTimeout | quote }}
{{- end }}
{{- with .Values.worker.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}
