//! The guide's two manifests, every error case with its line and field, and quantities.

use std::path::Path;

use super::*;
use crate::model::hpa::ScalingPolicy;

fn deploy(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(name)
}

fn parse(text: &str) -> Result<Manifest, ManifestError> {
    parse_hpa(text, Path::new("deploy/x.yaml"))
}

fn resource(name: &str, target: MetricTarget) -> MetricSpec {
    MetricSpec::Resource {
        resource: name.into(),
        target,
    }
}

fn rules(window: i32, select: Option<SelectPolicy>, policies: Vec<ScalingPolicy>) -> ScalingRules {
    ScalingRules {
        stabilization_window_seconds: Some(window),
        select_policy: select,
        policies: Some(policies),
        tolerance: None,
    }
}

#[test]
fn manifest_seed_loads_as_written() {
    let m = load_hpa(&deploy("hpa-seed.yaml")).unwrap();
    assert_eq!(m.name, "api-gateway-hpa");
    assert_eq!(m.target, "api-gateway");
    let expected = HpaSpec {
        min_replicas: Some(3),
        max_replicas: 50,
        metrics: vec![
            resource("cpu", MetricTarget::Utilization(70)),
            resource("memory", MetricTarget::Utilization(80)),
            MetricSpec::Pods {
                metric: "requests_per_second".into(),
                target: MetricTarget::AverageValue(100_000), // "100" per pod, milli-units
            },
        ],
        behavior: Some(Behavior {
            scale_up: Some(rules(60, None, vec![ScalingPolicy::percent(100, 15)])),
            scale_down: Some(rules(300, None, vec![ScalingPolicy::percent(10, 60)])),
        }),
    };
    assert_eq!(m.spec, expected);
}

/// The guide's second manifest has two `Object` metrics without `describedObject`, which the
/// API server rejects (`describedObject.kind`/`.name`: Required value); so does the loader.
#[test]
fn manifest_custom_metrics_as_written_lacks_described_object() {
    let path = deploy("hpa-custom-metrics.yaml");
    let e = load_hpa(&path).unwrap_err();
    assert_eq!(e.file, path);
    assert_eq!(e.line, Some(23), "{e}");
    assert_eq!(e.field, "spec.metrics[1].object.describedObject");
    assert!(e.message.contains("required field is missing"), "{e}");
}

/// Everything else in it is read: the same file with a `describedObject` added to both
/// Object metrics.
#[test]
fn manifest_custom_metrics_with_described_object() {
    let text = std::fs::read_to_string(deploy("hpa-custom-metrics.yaml")).unwrap();
    let described = "      object:\n        describedObject:\n          apiVersion: apps/v1\n          kind: Deployment\n          name: api-gateway\n";
    let fixed = text.replace("      object:\n", described);
    assert_eq!(fixed.matches("describedObject").count(), 2);
    let m = parse(&fixed).unwrap();
    assert_eq!(m.name, "api-gateway-custom-hpa");
    assert_eq!(m.target, "api-gateway");
    let object = |metric: &str, milli| MetricSpec::Object {
        metric: metric.into(),
        object: "api-gateway".into(),
        target: MetricTarget::AverageValue(milli),
    };
    let expected = HpaSpec {
        min_replicas: Some(3),
        max_replicas: 100,
        metrics: vec![
            resource("cpu", MetricTarget::Utilization(70)),
            object("requests_per_second", 50_000),
            object("queue_length", 10_000),
        ],
        behavior: Some(Behavior {
            scale_up: Some(rules(
                60,
                Some(SelectPolicy::Max),
                vec![ScalingPolicy::percent(50, 60), ScalingPolicy::pods(5, 60)],
            )),
            scale_down: Some(rules(300, None, vec![ScalingPolicy::percent(10, 60)])),
        }),
    };
    assert_eq!(m.spec, expected);
}

/// A manifest using every supported field once.
const FULL: &str = "\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 20
  metrics:
    - type: Resource
      resource: {name: memory, target: {type: AverageValue, averageValue: 500Mi}}
    - type: ContainerResource
      containerResource: {name: cpu, container: app, target: {type: AverageValue, averageValue: 250m}}
    - type: Pods
      pods: {metric: {name: http_requests_per_second}, target: {type: AverageValue, averageValue: 1.5}}
    - type: Object
      object:
        describedObject: {apiVersion: networking.k8s.io/v1, kind: Ingress, name: main}
        metric: {name: requests}
        target: {type: Value, value: 2k}
    - type: External
      external: {metric: {name: queue_length}, target: {type: Value, value: 10}}
  behavior:
    scaleUp:
      selectPolicy: Disabled
    scaleDown:
      stabilizationWindowSeconds: 0
      selectPolicy: Min
      tolerance: 50m
      policies: [{type: Pods, value: 1, periodSeconds: 1800}]
";

#[test]
fn manifest_every_supported_field() {
    let m = parse(FULL).unwrap();
    assert_eq!(m.spec.min_replicas, None);
    assert_eq!(m.spec.max_replicas, 20);
    assert_eq!(
        m.spec.metrics,
        vec![
            resource(
                "memory",
                MetricTarget::AverageValue(500 * 1024 * 1024 * 1000)
            ),
            MetricSpec::ContainerResource {
                resource: "cpu".into(),
                container: "app".into(),
                target: MetricTarget::AverageValue(250),
            },
            MetricSpec::Pods {
                metric: "http_requests_per_second".into(),
                target: MetricTarget::AverageValue(1500),
            },
            MetricSpec::Object {
                metric: "requests".into(),
                object: "main".into(),
                target: MetricTarget::Value(2_000_000),
            },
            MetricSpec::External {
                metric: "queue_length".into(),
                target: MetricTarget::Value(10_000),
            },
        ]
    );
    let b = m.spec.behavior.unwrap();
    assert_eq!(
        b.scale_up,
        Some(ScalingRules {
            select_policy: Some(SelectPolicy::Disabled),
            ..Default::default()
        })
    );
    assert_eq!(
        b.scale_down,
        Some(ScalingRules {
            stabilization_window_seconds: Some(0),
            select_policy: Some(SelectPolicy::Min),
            policies: Some(vec![ScalingPolicy::pods(1, 1800)]),
            tolerance: Some(0.05),
        })
    );
}

const MINIMAL: &str = "\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef:
    kind: Deployment
    name: web
  maxReplicas: 5
";

#[test]
fn manifest_defaults_cpu_80_and_no_behavior() {
    let m = parse(MINIMAL).unwrap();
    assert_eq!(m.spec.metrics, vec![MetricSpec::cpu_utilization(80)]);
    assert_eq!(m.spec.behavior, None);
    assert_eq!(m.spec.min_replicas, None);
    // `behavior: {}` is not `None`: it selects the defaulted behavior path.
    let m = parse(&format!("{MINIMAL}  metrics: []\n  behavior: {{}}\n")).unwrap();
    assert_eq!(m.spec.metrics, vec![MetricSpec::cpu_utilization(80)]);
    assert_eq!(m.spec.behavior, Some(Behavior::default()));
}

/// The seed manifest with `from` replaced by `to` (which must occur once).
fn seed_with(from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(deploy("hpa-seed.yaml")).unwrap();
    assert_eq!(text.matches(from).count(), 1, "{from:?} must occur once");
    text.replacen(from, to, 1)
}

#[test]
fn manifest_errors_name_line_and_field() {
    // (case, text, line, field, part of the message)
    let cases: Vec<(&str, String, usize, &str, &str)> = vec![
        (
            "not YAML",
            "apiVersion: [autoscaling/v2\nkind: x\n".into(),
            2,
            "",
            "not YAML",
        ),
        (
            "not a mapping",
            "- a\n- b\n".into(),
            1,
            "",
            "expected a mapping, found a list",
        ),
        ("empty", "# nothing\n".into(), 1, "", "empty file"),
        (
            "two documents",
            format!("{MINIMAL}---\n{MINIMAL}"),
            11,
            "",
            "2 YAML documents",
        ),
        (
            "wrong apiVersion",
            seed_with("autoscaling/v2", "autoscaling/v1"),
            2,
            "apiVersion",
            "\"autoscaling/v1\" is not supported (expected autoscaling/v2)",
        ),
        (
            "wrong kind",
            seed_with("kind: HorizontalPodAutoscaler", "kind: Deployment"),
            3,
            "kind",
            "kind \"Deployment\" is not supported",
        ),
        (
            "unknown top-level field",
            format!("{MINIMAL}status: {{}}\n"),
            10,
            "status",
            "unknown field `status`",
        ),
        (
            "unknown spec field, with a suggestion",
            seed_with("  minReplicas: 3", "  minReplica: 3"),
            11,
            "spec.minReplica",
            "unknown field `minReplica` (did you mean `minReplicas`?)",
        ),
        (
            "missing maxReplicas",
            seed_with("  maxReplicas: 50\n", ""),
            6,
            "spec.maxReplicas",
            "required field is missing",
        ),
        (
            "minReplicas > maxReplicas",
            seed_with("minReplicas: 3", "minReplicas: 60"),
            12,
            "spec.maxReplicas",
            "maxReplicas (50) is less than minReplicas (60)",
        ),
        (
            "minReplicas 0",
            seed_with("minReplicas: 3", "minReplicas: 0"),
            11,
            "spec.minReplicas",
            "must be at least 1",
        ),
        (
            "maxReplicas as a string",
            seed_with("maxReplicas: 50", "maxReplicas: \"50\""),
            12,
            "spec.maxReplicas",
            "expected an integer, found the string \"50\"",
        ),
        (
            "unknown metric type",
            seed_with("- type: Pods", "- type: Custom"),
            26,
            "spec.metrics[2].type",
            "unknown metric type \"Custom\" (expected Resource, ContainerResource, Pods, Object or External)",
        ),
        (
            "source of another type",
            seed_with("- type: Pods", "- type: External"),
            27,
            "spec.metrics[2].pods",
            "`pods` does not belong to a metric of type External (set only `external`)",
        ),
        (
            "unknown target type",
            seed_with(
                "          type: Utilization\n          averageUtilization: 70",
                "          type: Percent\n          averageUtilization: 70",
            ),
            18,
            "spec.metrics[0].resource.target.type",
            "unknown target type \"Percent\" (expected Utilization, AverageValue or Value)",
        ),
        (
            "target type not valid for the source",
            seed_with(
                "type: AverageValue\n          averageValue: \"100\"",
                "type: Value\n          value: \"100\"",
            ),
            31,
            "spec.metrics[2].pods.target.type",
            "target type Value does not apply to a Pods metric (expected AverageValue)",
        ),
        (
            "target value field of another type",
            seed_with("averageValue: \"100\"", "value: \"100\""),
            32,
            "spec.metrics[2].pods.target.value",
            "`value` does not apply to target type AverageValue (set only `averageValue`)",
        ),
        (
            "target value missing",
            seed_with("          averageUtilization: 80\n", ""),
            23,
            "spec.metrics[1].resource.target.averageUtilization",
            "required for target type Utilization",
        ),
        (
            "utilization 0",
            seed_with("averageUtilization: 80", "averageUtilization: 0"),
            25,
            "spec.metrics[1].resource.target.averageUtilization",
            "must be greater than 0",
        ),
        (
            "average value 0",
            seed_with("averageValue: \"100\"", "averageValue: \"0\""),
            32,
            "spec.metrics[2].pods.target.averageValue",
            "must be positive",
        ),
        (
            "bad quantity",
            seed_with("averageValue: \"100\"", "averageValue: 100 rps"),
            32,
            "spec.metrics[2].pods.target.averageValue",
            "\"100 rps\" is not a quantity",
        ),
        (
            "metric selector",
            seed_with(
                "          name: requests_per_second\n",
                "          name: requests_per_second\n          selector: {matchLabels: {verb: GET}}\n",
            ),
            30,
            "spec.metrics[2].pods.metric.selector",
            "metric selectors are not supported",
        ),
        (
            "policy periodSeconds 0",
            seed_with("periodSeconds: 15", "periodSeconds: 0"),
            39,
            "spec.behavior.scaleUp.policies[0].periodSeconds",
            "must be between 1 and 1800 seconds, got 0",
        ),
        (
            "policy periodSeconds 1801",
            seed_with("periodSeconds: 15", "periodSeconds: 1801"),
            39,
            "spec.behavior.scaleUp.policies[0].periodSeconds",
            "must be between 1 and 1800 seconds, got 1801",
        ),
        (
            "policy value 0",
            seed_with("value: 10\n", "value: 0\n"),
            44,
            "spec.behavior.scaleDown.policies[0].value",
            "must be greater than 0, got 0",
        ),
        (
            "policy value negative",
            seed_with("value: 100\n", "value: -5\n"),
            38,
            "spec.behavior.scaleUp.policies[0].value",
            "must be greater than 0, got -5",
        ),
        (
            "unknown policy type",
            seed_with(
                "- type: Percent\n          value: 10\n",
                "- type: Replicas\n          value: 10\n",
            ),
            43,
            "spec.behavior.scaleDown.policies[0].type",
            "unknown policy type \"Replicas\" (expected Pods or Percent)",
        ),
        (
            "unknown selectPolicy",
            seed_with(
                "      stabilizationWindowSeconds: 300\n",
                "      stabilizationWindowSeconds: 300\n      selectPolicy: Maximum\n",
            ),
            42,
            "spec.behavior.scaleDown.selectPolicy",
            "unknown selectPolicy \"Maximum\" (expected Max, Min or Disabled)",
        ),
        (
            "window over an hour",
            seed_with(
                "stabilizationWindowSeconds: 300",
                "stabilizationWindowSeconds: 3601",
            ),
            41,
            "spec.behavior.scaleDown.stabilizationWindowSeconds",
            "must be between 0 and 3600 seconds",
        ),
        (
            "unknown behavior field",
            seed_with(
                "    scaleDown:\n",
                "    scaleDownDelay: 10\n    scaleDown:\n",
            ),
            40,
            "spec.behavior.scaleDownDelay",
            "unknown field `scaleDownDelay`",
        ),
        (
            "unknown policy field",
            seed_with(
                "          periodSeconds: 60\n",
                "          periodSeconds: 60\n          burst: 2\n",
            ),
            46,
            "spec.behavior.scaleDown.policies[0].burst",
            "unknown field `burst` (supported: type, value, periodSeconds)",
        ),
        (
            "empty policies",
            format!("{MINIMAL}  behavior:\n    scaleUp:\n      policies: []\n"),
            12,
            "spec.behavior.scaleUp.policies",
            "must list at least one policy",
        ),
        (
            "negative tolerance",
            format!("{MINIMAL}  behavior:\n    scaleUp:\n      tolerance: -0.1\n"),
            12,
            "spec.behavior.scaleUp.tolerance",
            "must be greater than or equal to 0",
        ),
        (
            "missing scaleTargetRef kind",
            MINIMAL.replace("    kind: Deployment\n", ""),
            6,
            "spec.scaleTargetRef.kind",
            "required field is missing",
        ),
        (
            "unknown metadata field",
            MINIMAL.replace("  name: web\nspec", "  name: web\n  uid: 1\nspec"),
            5,
            "metadata.uid",
            "unknown field `uid`",
        ),
        (
            "duplicate key",
            MINIMAL.replace("  maxReplicas: 5\n", "  maxReplicas: 5\n  maxReplicas: 6\n"),
            10,
            "",
            "not YAML",
        ),
    ];
    let mut wrong = Vec::new();
    for (case, text, line, field, message) in cases {
        let e = parse(&text).expect_err(case);
        if e.line != Some(line) || e.field != field || !e.message.contains(message) {
            wrong.push(format!(
                "{case}: expected line {line}, {field:?}, {message:?}; got {e}"
            ));
        }
        assert_eq!(e.file, Path::new("deploy/x.yaml"));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn manifest_error_display() {
    let text = seed_with(
        "          type: Utilization\n          averageUtilization: 70",
        "          type: Percent\n          averageUtilization: 70",
    );
    let e = parse(&text).unwrap_err();
    assert_eq!(
        e.to_string(),
        "deploy/x.yaml:18: spec.metrics[0].resource.target.type: unknown target type \"Percent\" \
         (expected Utilization, AverageValue or Value)"
    );
    let e = load_hpa(Path::new("deploy/does-not-exist.yaml")).unwrap_err();
    assert_eq!(e.line, None);
    assert!(
        e.to_string()
            .starts_with("deploy/does-not-exist.yaml: cannot read"),
        "{e}"
    );
}

#[test]
fn manifest_quantities() {
    let ok: &[(&str, i64)] = &[
        ("100m", 100),
        ("1", 1000),
        ("0", 0),
        ("1.5", 1500),
        ("0.5", 500),
        (".5", 500),
        ("1.", 1000),
        ("+2", 2000),
        ("-2", -2000),
        ("2k", 2_000_000),
        ("1M", 1_000_000_000),
        ("3G", 3_000_000_000_000),
        ("1Ki", 1_024_000),
        ("500Mi", 500 * 1_048_576 * 1000),
        ("1Gi", 1_073_741_824_000),
        ("1.5Gi", 1_610_612_736_000),
        ("2Ti", 2 * 1_099_511_627_776 * 1000),
        ("1e3", 1_000_000),
        ("1E3", 1_000_000),
        ("5e-3", 5),
        ("1P", 1_000_000_000_000_000_000),
        // rounded up to a milli-unit, like Quantity.MilliValue()
        ("1n", 1),
        ("1500u", 2),
        ("0.0001", 1),
        ("1.0001", 1001),
        ("-1.0009", -1000),
        ("100.000", 100_000),
        ("007", 7000),
    ];
    for &(s, milli) in ok {
        assert_eq!(parse_quantity(s), Ok(milli), "{s}");
    }
    let bad = [
        "", "m", "1.2.3", "1 Gi", "1gi", "1KB", "1e", "1e+", "abc", "--1", "1mm", "10E10000",
    ];
    for s in bad {
        assert!(parse_quantity(s).is_err(), "{s:?} should fail");
    }
    assert!(parse_quantity("1E").unwrap_err().contains("too large"));
    assert!(parse_quantity("10Ei").unwrap_err().contains("too large"));
    assert!(
        parse_quantity("100000000000000000")
            .unwrap_err()
            .contains("too large")
    );
}

/// YAML numbers are read as the quantity they spell; strings and numbers agree.
#[test]
fn manifest_quantity_from_yaml_numbers() {
    for (written, milli) in [
        ("100", 100_000),
        ("\"100\"", 100_000),
        ("1.5", 1500),
        ("'250m'", 250),
    ] {
        let text = seed_with("averageValue: \"100\"", &format!("averageValue: {written}"));
        let m = parse(&text).unwrap();
        assert_eq!(
            m.spec.metrics[2],
            MetricSpec::Pods {
                metric: "requests_per_second".into(),
                target: MetricTarget::AverageValue(milli)
            },
            "{written}"
        );
    }
}
