{{/* The master's pod template, for its Deployment or its headless Job. */}}
{{- define "horde.masterPod" -}}
metadata:
  labels:
    {{- include "horde.selectorLabels" (list . "master") | nindent 4 }}
  annotations:
    checksum/script: {{ include (print .Template.BasePath "/script-configmap.yaml") . | sha256sum }}
    {{- if .Values.auth.token }}
    checksum/auth: {{ .Values.auth.token | sha256sum }}
    {{- end }}
    {{- if .Values.prometheusAnnotations }}
    prometheus.io/scrape: "true"
    prometheus.io/port: "8089"
    prometheus.io/path: /metrics
    {{- end }}
    {{- with .Values.master.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  {{- include "horde.podCommon" . | nindent 2 }}
  {{- if .Values.headless.enabled }}
  restartPolicy: Never
  {{- end }}
  containers:
    - name: horde
      image: {{ include "horde.image" . }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      {{- if .Values.headless.enabled }}
      args:
        - master
        - /etc/horde/script/{{ .Values.scriptName }}
        - --headless
        - --run-time={{ .Values.headless.runTime }}
        # Start when these workers are there (more may join later); exit 3
        # when they have not come within expectWorkersMaxWait.
        - --expect-workers={{ .Values.headless.expectWorkers | default .Values.worker.replicas }}
        - --expect-workers-max-wait={{ .Values.headless.expectWorkersMaxWait }}
        - --print-interval=10s
        - --json=/reports/summary.json
        - --html=/reports/report.html
        - --csv=/reports/horde
        {{- range .Values.headless.thresholds }}
        - {{ printf "--threshold=%s" . | quote }}
        {{- end }}
      {{- end }}
      env:
        {{- include "horde.masterEnv" . | trim | nindent 8 }}
      ports:
        - name: http
          containerPort: 8089
        - name: workers
          containerPort: 5557
      # /healthz answers while the process serves, /readyz once the master
      # accepts workers and tests; neither asks for the web password.
      livenessProbe:
        httpGet:
          path: /healthz
          port: http
        periodSeconds: 10
        failureThreshold: 3
      readinessProbe:
        httpGet:
          path: /readyz
          port: http
        periodSeconds: 5
      resources:
        {{- toYaml .Values.master.resources | nindent 8 }}
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
      volumeMounts:
        - name: script
          mountPath: /etc/horde/script
          readOnly: true
        - name: tmp
          mountPath: /tmp
        {{- if .Values.headless.enabled }}
        - name: reports
          mountPath: /reports
        {{- end }}
  volumes:
    - name: script
      configMap:
        name: {{ include "horde.scriptConfigMap" . }}
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
    {{- if .Values.headless.enabled }}
    - name: reports
      {{- if .Values.headless.reports.persistence }}
      persistentVolumeClaim:
        claimName: {{ include "horde.fullname" . }}-reports
      {{- else }}
      emptyDir: {}
      {{- end }}
    {{- end }}
  {{- with .Values.master.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.master.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.master.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}

{{/* A worker's pod template, for its Deployment or its headless Job. It
has no probes: a worker serves no HTTP port. */}}
{{- define "horde.workerPod" -}}
metadata:
  labels:
    {{- include "horde.selectorLabels" (list . "worker") | nindent 4 }}
  {{- if or .Values.auth.token .Values.worker.podAnnotations }}
  annotations:
    {{- if .Values.auth.token }}
    checksum/auth: {{ .Values.auth.token | sha256sum }}
    {{- end }}
    {{- with .Values.worker.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
spec:
  {{- include "horde.podCommon" . | nindent 2 }}
  {{- if .Values.headless.enabled }}
  restartPolicy: Never
  {{- end }}
  terminationGracePeriodSeconds: {{ .Values.worker.terminationGracePeriodSeconds }}
  containers:
    - name: horde
      image: {{ include "horde.image" . }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      env:
        {{- include "horde.workerEnv" . | trim | nindent 8 }}
      resources:
        {{- toYaml .Values.worker.resources | nindent 8 }}
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
  {{- with .Values.worker.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.worker.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.worker.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
