import { expect } from "chai";
import { tenantNames } from "../../components/naming";
import { backupCronJob, backupEnv } from "../../components/specs/backup";
import { ingress } from "../../components/specs/ingress";
import { namespaceMetadata } from "../../components/specs/namespace";
import { odooDataClaim, odooDeployment, odooService } from "../../components/specs/odoo";
import { renderOdooConf } from "../../components/specs/odoo-conf";
import { postgresService, postgresStatefulSet } from "../../components/specs/postgres";
import { jobFromCronJob } from "../../backup/k8s/job-from-cronjob";
import { limitRange, resourceQuota } from "../../components/specs/quota";
import { asData as data, type Json } from "../support/as-data";
import { argsFor } from "../support/tenant-args";

describe("tenant object specs", () => {
  const starter = argsFor({ id: "acme" });
  const business = argsFor({ id: "globex", plan: "business", odooVersion: "17.0", customDomains: ["erp.globex.example"] });

  it("derives every name from the id", () => {
    const names = tenantNames("acme");
    expect(names.namespace).to.equal("tenant-acme");
    expect(names.database).to.equal("acme");
    expect(names.backup).to.equal("acme-backup");
    expect(names.odoo).to.equal("acme-odoo");
  });

  it("namespace enforces the restricted Pod Security Standard and carries the labels", () => {
    const meta = data(namespaceMetadata(starter));
    expect(meta.name).to.equal("tenant-acme");
    expect(meta.labels["pod-security.kubernetes.io/enforce"]).to.equal("restricted");
    expect(meta.labels["app.kubernetes.io/part-of"]).to.equal("odoo-saas");
    expect(meta.labels["odoo-saas.io/tenant"]).to.equal("acme");
  });

  it("quota and limit range come from the plan", () => {
    const quota = data(resourceQuota(business));
    expect(quota.metadata.namespace).to.equal("tenant-globex");
    expect(quota.spec.hard).to.include({ "limits.cpu": "5", "limits.memory": "6Gi", "requests.storage": "150Gi", pods: "10", "services.loadbalancers": "0" });
    const limits = data(limitRange(business));
    expect(limits.spec.limits[0].max).to.deep.equal({ cpu: "2", memory: "3Gi" });
  });

  it("PostgreSQL: pinned official image, non-root 999, pg_isready probe, claim template, retained volumes", () => {
    const sts = data(postgresStatefulSet(starter));
    const pod = sts.spec.template.spec;
    const c = pod.containers[0];
    expect(c.image).to.equal("postgres:15");
    expect(pod.securityContext).to.include({ runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999 });
    expect(c.securityContext).to.deep.include({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(c.readinessProbe.exec.command).to.deep.equal(["pg_isready", "--host=127.0.0.1", "--port=5432", "--username=odoo", "--dbname=acme"]);
    expect(c.env).to.deep.include({ name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" });
    // The server starts an initialised volume: it needs no password, the init container has them.
    expect(JSON.stringify(c.env)).to.not.contain("secretKeyRef");
    expect(c.resources).to.deep.equal({ requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } });
    expect(sts.spec.volumeClaimTemplates[0].spec).to.deep.equal({ accessModes: ["ReadWriteOnce"], storageClassName: "local-pool", resources: { requests: { storage: "5Gi" } } });
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).to.deep.equal({ whenDeleted: "Retain", whenScaled: "Retain" });
    expect(pod.automountServiceAccountToken).to.equal(false);
  });

  it("PostgreSQL: an init container sets the roles before the server listens, the only holder of the superuser's Secret", () => {
    const pod = data(postgresStatefulSet(starter)).spec.template.spec;
    expect(pod.initContainers.map((i: Json) => i.name)).to.deep.equal(["setup-roles"]);
    const init = pod.initContainers[0];
    expect(init.image).to.equal("postgres:15");
    expect(init.command).to.deep.equal(["bash", "/opt/odoo-saas/postgres/setup-roles.sh"]);
    expect(init.securityContext).to.deep.include({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(init.env).to.deep.include.members([
      { name: "POSTGRES_USER", value: "odoo" },
      { name: "POSTGRES_DB", value: "acme" },
      { name: "POSTGRES_PASSWORD", valueFrom: { secretKeyRef: { name: "acme-postgres-superuser", key: "password" } } },
      { name: "ODOO_SAAS_APP_ROLE", value: "odoo_app" },
      { name: "ODOO_SAAS_APP_PASSWORD", valueFrom: { secretKeyRef: { name: "acme-db", key: "password" } } },
      { name: "ODOO_SAAS_DATABASE", value: "acme" },
    ]);
    // Same volume and writable places as the server; the scripts read-only from their ConfigMap.
    expect(init.volumeMounts.map((m: Json) => m.mountPath)).to.deep.equal(["/var/lib/postgresql/data", "/var/run/postgresql", "/tmp", "/dev/shm", "/opt/odoo-saas/postgres"]);
    expect(pod.volumes).to.deep.include({ name: "setup", configMap: { name: "acme-postgres-setup", defaultMode: 0o444 } });
    expect(data(postgresStatefulSet(starter)).spec.template.metadata.annotations["odoo-saas.io/role-setup-checksum"]).to.match(/^[0-9a-f]{64}$/);
  });

  it("the superuser's Secret is referenced by no Odoo pod, backup CronJob or Job made from it", () => {
    for (const args of [starter, business]) {
      const names = tenantNames(args.id);
      const cron = backupCronJob(args);
      const job = jobFromCronJob({ ...cron, metadata: { ...cron.metadata, uid: "uid-1" } } as never, { name: "x", action: "import", writableVolumes: true });
      // Odoo reads the application role's password from odoo.conf; the Jobs from the `db` Secret.
      for (const [what, spec, secret] of [["Odoo", odooDeployment(args), names.odooConfigSecret], ["backup CronJob", backupCronJob(args), names.dbSecret], ["import Job", job, names.dbSecret]] as const) {
        const text = JSON.stringify(spec);
        expect(text, what).to.not.contain(names.dbSuperuserSecret);
        expect(text, what).to.contain(`"${secret}"`);
      }
      expect(JSON.stringify(postgresStatefulSet(args))).to.contain(names.dbSuperuserSecret);
      expect(backupEnv(args)).to.deep.include({ name: "PGUSER", value: "odoo_app" });
    }
  });

  it("Odoo: image per version, its own uid, Recreate, probes, config from a Secret, spread across tenants", () => {
    const dep = data(odooDeployment(business));
    const pod = dep.spec.template.spec;
    const odoo = pod.containers[0];
    expect(dep.spec.replicas).to.equal(1);
    expect(dep.spec.strategy).to.deep.equal({ type: "Recreate" });
    expect(odoo.image).to.equal("odoo:17.0");
    expect(pod.securityContext).to.include({ runAsUser: 101, runAsGroup: 101, fsGroup: 101, runAsNonRoot: true });
    expect(odoo.ports.map((p: Json) => p.containerPort)).to.deep.equal([8069, 8072]);
    expect(odoo.startupProbe.httpGet).to.deep.equal({ path: "/web/health", port: "http" });
    expect(odoo.startupProbe.failureThreshold * odoo.startupProbe.periodSeconds).to.be.at.least(300);
    expect(odoo.readinessProbe.httpGet.path).to.equal("/web/health?db_server_status=1");
    expect(odoo.resources.limits).to.deep.equal({ cpu: "2", memory: "3Gi" });
    expect(pod.volumes).to.deep.include({ name: "config", secret: { secretName: "globex-odoo-conf", defaultMode: 0o440 } });
    expect(pod.volumes).to.deep.include({ name: "data", persistentVolumeClaim: { claimName: "globex-odoo-data" } });
    const term = pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
    expect(term.topologyKey).to.equal("kubernetes.io/hostname");
    expect(term.namespaceSelector).to.deep.equal({ matchLabels: { "app.kubernetes.io/part-of": "odoo-saas" } });
    // First start initialises the database before Odoo's HTTP server can start.
    const init = pod.initContainers[0];
    expect(init.command).to.deep.equal(["python3", "/opt/odoo-saas/init_tenant.py"]);
    expect(init.env).to.deep.include({ name: "ODOO_ADMIN_PASSWORD", valueFrom: { secretKeyRef: { name: "globex-admin", key: "password" } } });
    expect(JSON.stringify(dep)).to.not.match(/--db_password|db_password\s*=/);
  });

  it("Odoo 18.0 runs as the noble image's odoo uid", () => {
    const pod = data(odooDeployment(starter)).spec.template.spec;
    expect(pod.containers[0].image).to.equal("odoo:18.0");
    expect(pod.securityContext).to.include({ runAsUser: 100, runAsGroup: 101 });
    expect(pod.containers[0].ports.map((p: Json) => p.containerPort)).to.deep.equal([8069]);
  });

  it("suspended scales Odoo to zero and keeps the data volume", () => {
    const suspended = argsFor({ id: "acme", suspended: true });
    expect(data(odooDeployment(suspended)).spec.replicas).to.equal(0);
    expect(data(odooDataClaim(suspended)).spec.resources.requests.storage).to.equal("5Gi");
  });

  it("services expose 8069, and 8072 only with workers", () => {
    expect(data(odooService(starter)).spec.ports.map((p: Json) => p.port)).to.deep.equal([8069]);
    expect(data(odooService(business)).spec.ports.map((p: Json) => p.port)).to.deep.equal([8069, 8072]);
  });

  it("services are not awaited by the engine (the status reader observes the pods behind them)", () => {
    for (const service of [odooService(starter), postgresService(starter)]) {
      expect(data(service).metadata.annotations).to.deep.equal({ "pulumi.com/skipAwait": "true" });
    }
  });

  it("ingress: class, every host, /websocket to 8072 with workers, TLS only with an issuer", () => {
    const plain = data(ingress(business));
    expect(plain.spec.ingressClassName).to.equal("traefik");
    expect(plain.spec.rules.map((r: Json) => r.host)).to.deep.equal(["globex.odoo-saas.test", "erp.globex.example"]);
    expect(plain.spec.rules[0].http.paths).to.deep.equal([
      { path: "/websocket", pathType: "Prefix", backend: { service: { name: "globex-odoo", port: { name: "websocket" } } } },
      { path: "/", pathType: "Prefix", backend: { service: { name: "globex-odoo", port: { name: "http" } } } },
    ]);
    expect(plain.spec.tls).to.equal(undefined);
    expect(plain.metadata.annotations).to.deep.equal({ "pulumi.com/skipAwait": "true" });
    expect(plain.metadata.annotations).to.not.have.property("kubernetes.io/ingress.class");
    const tls = data(ingress(argsFor({ id: "acme" }, { ingress: { clusterIssuer: "letsencrypt" } })));
    expect(tls.spec.tls).to.deep.equal([{ hosts: ["acme.odoo-saas.test"], secretName: "acme-tls" }]);
    expect(tls.metadata.annotations).to.deep.equal({ "cert-manager.io/cluster-issuer": "letsencrypt" });
  });

  it("odoo.conf: tenant database only, no database manager, proxy mode, workers from the plan", () => {
    const conf = renderOdooConf(business, { dbPassword: "dbpw", masterPassword: "masterpw" });
    for (const line of ["db_host = globex-postgres", "db_user = odoo_app", "db_password = dbpw", "db_name = globex", "dbfilter = ^globex$",
      "list_db = False", "admin_passwd = masterpw", "proxy_mode = True", "workers = 2", "data_dir = /var/lib/odoo", "gevent_port = 8072"]) {
      expect(conf.split("\n")).to.include(line);
    }
    expect(() => renderOdooConf(business, { dbPassword: "x\nadmin_passwd = admin", masterPassword: "m" })).to.throw(/single line/);
  });

  it("backup CronJob: batch/v1 schedule per tenant, Forbid, bounded history, non-root, values by env", () => {
    const cron = data(backupCronJob(business));
    expect(cron.metadata.name).to.equal("globex-backup");
    expect(cron.spec.schedule).to.equal("0 2 * * *");
    expect(cron.spec.concurrencyPolicy).to.equal("Forbid");
    expect(cron.spec.successfulJobsHistoryLimit).to.equal(3);
    expect(cron.spec.failedJobsHistoryLimit).to.equal(3);
    const pod = cron.spec.jobTemplate.spec.template.spec;
    expect(pod.securityContext).to.include({ runAsNonRoot: true, runAsUser: 101 });
    expect(pod.automountServiceAccountToken).to.equal(false);
    const c = pod.containers[0];
    expect(c.args).to.deep.equal(["backup"]);
    expect(c.command).to.equal(undefined);
    expect(c.env).to.deep.include({ name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: "globex-db", key: "password" } } });
    expect(c.volumeMounts).to.deep.include({ name: "odoo-data", mountPath: "/var/lib/odoo", readOnly: true });
    const env = Object.fromEntries(backupEnv(business).filter((e) => "value" in e).map((e) => [e.name, e.value]));
    expect(env).to.include({ TENANT_ID: "globex", PGHOST: "globex-postgres", PGDATABASE: "globex", FILESTORE_DIR: "/var/lib/odoo/filestore/globex", BACKUP_STORE: "pvc", BACKUP_DIR: "/backups" });
    expect(env).to.include({ BACKUP_RETENTION_DAILY: "7", BACKUP_RETENTION_WEEKLY: "4", BACKUP_RETENTION_MONTHLY: "3", BACKUP_RETENTION_ON_DEMAND: "5" });
    expect(Object.hasOwn(env, "BACKUP_KEEP")).to.equal(false);
  });

  it("per-tenant backup schedule and retention fields override the defaults", () => {
    const custom = argsFor({ id: "acme", backup: { schedule: "15 3 * * 0", retention: { daily: 30, onDemand: 0 } } });
    const cron = data(backupCronJob(custom));
    expect(cron.spec.schedule).to.equal("15 3 * * 0");
    expect(backupEnv(custom)).to.deep.include.members([
      { name: "BACKUP_RETENTION_DAILY", value: "30" },
      { name: "BACKUP_RETENTION_WEEKLY", value: "4" },
      { name: "BACKUP_RETENTION_MONTHLY", value: "3" },
      { name: "BACKUP_RETENTION_ON_DEMAND", value: "0" },
    ]);
  });

  it("S3 store: credentials from a Secret, one prefix per tenant, no backup volume", () => {
    const s3 = argsFor({ id: "acme" }, { backup: { store: { type: "s3", endpoint: "https://s3.example.com", bucket: "odoo-backups", credentialsSecret: "backup-s3" } } });
    const env = backupEnv(s3);
    expect(env).to.deep.include({ name: "S3_PREFIX", value: "" });
    expect(env).to.deep.include({ name: "TENANT_ID", value: "acme" });
    expect(env).to.deep.include({ name: "AWS_SECRET_ACCESS_KEY", valueFrom: { secretKeyRef: { name: "backup-s3", key: "AWS_SECRET_ACCESS_KEY" } } });
    const pod = data(backupCronJob(s3)).spec.jobTemplate.spec.template.spec;
    expect(pod.volumes.map((v: Json) => v.name)).to.deep.equal(["odoo-data", "tmp"]);
  });
});
