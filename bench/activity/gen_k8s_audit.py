"""Kubernetes audit JSONL for the ingestion benchmark: 400k events, Metadata level except 5% pod
creates with request and response bodies and 5% Request-level lease updates (whose bodies are
never read). usage: gen_k8s_audit.py OUT [--metadata-only]"""
import json, random, sys
random.seed(7)
out=open(sys.argv[1],'w')
BODIES = '--metadata-only' not in sys.argv
verbs=[("get","secrets"),("list","pods"),("watch","configmaps"),("get","pods"),("update","leases"),("create","events"),("patch","nodes")]
for i in range(400000):
    r=random.random()
    base={"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":f"bench-{i:08d}","stage":"ResponseComplete",
          "user":{"username":f"system:serviceaccount:ns{i%40}:sa{i%300}","uid":"u","groups":["system:serviceaccounts","system:authenticated"],
                  "extra":{"authentication.kubernetes.io/credential-id":[f"JTI=j{i%5000}"],"authentication.kubernetes.io/pod-name":[f"p{i%900}"]}},
          "sourceIPs":[f"10.1.{i%200}.{i%250}"],"userAgent":"client-go/v0.30.2 (linux/amd64) kubernetes/abc",
          "responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-11-03T14:00:00.000000Z","stageTimestamp":"2026-11-03T14:00:00.010000Z",
          "annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding"}}
    if BODIES and r<0.05:
        base["level"]="RequestResponse"; base["verb"]="create"
        base["objectRef"]={"resource":"pods","namespace":"shop","name":f"pod-{i}","apiVersion":"v1"}
        spec={"containers":[{"name":"c","image":"img:1","securityContext":{"privileged":False},"env":[{"name":f"E{k}","value":"x"*20} for k in range(10)]}],"volumes":[{"name":"v","emptyDir":{}}]}
        base["requestObject"]={"kind":"Pod","apiVersion":"v1","metadata":{"name":f"pod-{i}","labels":{"a":"b"}},"spec":spec}
        base["responseObject"]={"kind":"Pod","apiVersion":"v1","metadata":{"name":f"pod-{i}","uid":"x","labels":{"a":"b"}},"spec":spec,"status":{"phase":"Pending"}}
        base["responseStatus"]["code"]=201
    elif BODIES and r<0.10:
        base["level"]="Request"; base["verb"]="update"
        base["objectRef"]={"resource":"leases","namespace":"kube-system","name":"lock","apiGroup":"coordination.k8s.io","apiVersion":"v1"}
        base["requestObject"]={"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{"name":"lock"},"spec":{"holderIdentity":"x","leaseDurationSeconds":15}}
    else:
        v,res=verbs[i%len(verbs)]
        base["verb"]=v; base["objectRef"]={"resource":res,"namespace":f"ns{i%40}","name":f"o{i%1000}","apiVersion":"v1"}
    out.write(json.dumps(base,separators=(",",":"))+"\n")
