package deploytest

import (
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// references: every Secret, ConfigMap and claim a pod uses is rendered (or
// is one the user creates), with the key it asks for.
func (c checks) references(r rendering) []string {
	var errs []string
	for _, p := range r.pods() {
		bad := func(f string, a ...any) { errs = append(errs, p.Owner+": "+fmt.Sprintf(f, a...)) }
		for _, v := range p.Spec.Spec.Volumes {
			switch {
			case v.ConfigMap != nil:
				if !c.has(r, "ConfigMap", v.ConfigMap.Name, "") {
					bad("volume %s: ConfigMap %s is not rendered", v.Name, v.ConfigMap.Name)
				}
			case v.Secret != nil:
				if !c.has(r, "Secret", v.Secret.SecretName, "") {
					bad("volume %s: Secret %s is not rendered", v.Name, v.Secret.SecretName)
				}
			case v.PersistentVolumeClaim != nil:
				if !c.has(r, "PersistentVolumeClaim", v.PersistentVolumeClaim.ClaimName, "") {
					bad("volume %s: claim %s is not rendered", v.Name, v.PersistentVolumeClaim.ClaimName)
				}
			}
		}
		for _, ct := range p.Spec.Spec.Containers {
			for _, m := range ct.VolumeMounts {
				if volume(p, m.Name) == nil {
					bad("container %s mounts unknown volume %s", ct.Name, m.Name)
				}
			}
			for _, e := range ct.EnvFrom {
				if e.ConfigMapRef != nil && !c.has(r, "ConfigMap", e.ConfigMapRef.Name, "") {
					bad("envFrom ConfigMap %s is not rendered", e.ConfigMapRef.Name)
				}
				if e.SecretRef != nil && !c.has(r, "Secret", e.SecretRef.Name, "") {
					bad("envFrom Secret %s is not rendered", e.SecretRef.Name)
				}
			}
			for _, e := range ct.Env {
				if e.ValueFrom == nil {
					continue
				}
				if s := e.ValueFrom.SecretKeyRef; s != nil && !c.has(r, "Secret", s.Name, s.Key) {
					bad("env %s: Secret %s key %s is not rendered", e.Name, s.Name, s.Key)
				}
				if s := e.ValueFrom.ConfigMapKeyRef; s != nil && !c.has(r, "ConfigMap", s.Name, s.Key) {
					bad("env %s: ConfigMap %s key %s is not rendered", e.Name, s.Name, s.Key)
				}
			}
		}
	}
	return errs
}

// has reports whether r holds kind/name (with key, if given), or the name
// is one the user creates.
func (c checks) has(r rendering, kind, name, key string) bool {
	if c.external[name] {
		return true
	}
	switch o := r.get(kind, name).(type) {
	case *corev1.ConfigMap:
		_, ok := o.Data[key]
		return key == "" || ok
	case *corev1.Secret:
		_, ok := o.Data[key]
		_, ok2 := o.StringData[key]
		return key == "" || ok || ok2
	case nil:
		return false
	default:
		return true
	}
}

// selectors: Deployments select their own pods; Services select pods and
// name ports those pods have; an HPA scales a rendered Deployment; a
// ServiceMonitor selects a Service that has its port.
func (c checks) selectors(r rendering) []string {
	var errs []string
	for _, o := range r {
		switch x := o.Obj.(type) {
		case *appsv1.Deployment:
			sel, err := metaSelector(x.Spec.Selector)
			if err != nil || !sel.Matches(labels.Set(x.Spec.Template.Labels)) {
				errs = append(errs, fmt.Sprintf("%s: selector does not match its pod template", o))
			}
		case *corev1.Service:
			errs = append(errs, serviceErrors(r, x)...)
		case *autoscalingv2.HorizontalPodAutoscaler:
			d, ok := r.get(x.Spec.ScaleTargetRef.Kind, x.Spec.ScaleTargetRef.Name).(*appsv1.Deployment)
			if !ok {
				errs = append(errs, fmt.Sprintf("%s: scales %s/%s, which is not rendered", o, x.Spec.ScaleTargetRef.Kind, x.Spec.ScaleTargetRef.Name))
			} else if d.Spec.Replicas != nil {
				errs = append(errs, fmt.Sprintf("%s: Deployment/%s sets replicas, which every apply would reset under the HPA", o, d.Name))
			}
		case *serviceMonitor:
			errs = append(errs, serviceMonitorErrors(r, x, c.routes)...)
		}
	}
	return errs
}

func serviceErrors(r rendering, s *corev1.Service) []string {
	var errs []string
	var pods []podTemplate
	for _, p := range r.pods() {
		if selects(s.Spec.Selector, []podTemplate{p}) {
			pods = append(pods, p)
		}
	}
	if len(pods) == 0 {
		return []string{fmt.Sprintf("Service/%s selects no pods", s.Name)}
	}
	for _, sp := range s.Spec.Ports {
		for _, p := range pods {
			tp := sp.TargetPort
			if tp.Type == intstr.Int && tp.IntVal == 0 {
				tp = intstr.FromInt32(sp.Port)
			}
			if _, ok := containerPort(container(p), tp); !ok {
				errs = append(errs, fmt.Sprintf("Service/%s port %s: %s has no port %s", s.Name, sp.Name, p.Owner, tp.String()))
			}
		}
	}
	return errs
}

func serviceMonitorErrors(r rendering, sm *serviceMonitor, rt routes) []string {
	sel, err := metaSelector(&sm.Spec.Selector)
	if err != nil {
		return []string{fmt.Sprintf("ServiceMonitor/%s: %v", sm.Name, err)}
	}
	var errs []string
	var matched []*corev1.Service
	for _, s := range r.services() {
		if sel.Matches(labels.Set(s.Labels)) {
			matched = append(matched, s)
		}
	}
	if len(matched) != 1 {
		return []string{fmt.Sprintf("ServiceMonitor/%s selects %d Services, want the UI's only", sm.Name, len(matched))}
	}
	for _, ep := range sm.Spec.Endpoints {
		if !slices.ContainsFunc(matched[0].Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == ep.Port }) {
			errs = append(errs, fmt.Sprintf("ServiceMonitor/%s: Service/%s has no port %q", sm.Name, matched[0].Name, ep.Port))
		}
		if !rt["master"][ep.Path] || ep.Path != "/metrics" {
			errs = append(errs, fmt.Sprintf("ServiceMonitor/%s: path %q is not the master's /metrics", sm.Name, ep.Path))
		}
	}
	return errs
}

// scrape: prometheus.io annotations name the web port and a served path.
func (c checks) scrape(r rendering) []string {
	var errs []string
	for _, p := range r.pods() {
		a := p.Spec.Annotations
		if a["prometheus.io/scrape"] != "true" {
			continue
		}
		if p.component() != "master" || a["prometheus.io/port"] != fmt.Sprint(webPort) || !c.routes["master"][a["prometheus.io/path"]] {
			errs = append(errs, fmt.Sprintf("%s: prometheus.io annotations %v do not name the master's /metrics on %d", p.Owner, a, webPort))
		}
	}
	return errs
}

// labels: everything carries app.kubernetes.io/name=horde, so
// `kubectl get all -l app.kubernetes.io/name=horde` shows it all.
func (c checks) labels(r rendering) []string {
	var errs []string
	for _, o := range r {
		var l map[string]string
		switch x := o.Obj.(type) {
		case interface{ GetLabels() map[string]string }:
			l = x.GetLabels()
		}
		if l["app.kubernetes.io/name"] != "horde" {
			errs = append(errs, fmt.Sprintf("%s: no label app.kubernetes.io/name=horde", o))
		}
	}
	return errs
}
