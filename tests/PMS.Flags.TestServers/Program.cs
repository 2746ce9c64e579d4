using PMS.Flags.TestServers.Backend;
using PMS.Flags.TestServers.Kubernetes;
using PMS.Flags.TestServers.LaunchDarkly;
using PMS.Flags.TestServers.Notifications;

// dotnet PMS.Flags.TestServers.dll <server> [options]
// Prints "LISTENING http://127.0.0.1:PORT" as the first stdout line once the server accepts requests, then runs
// until SIGINT/SIGTERM or POST /_control/shutdown.
try
{
    return args.FirstOrDefault() switch
    {
        "launchdarkly" => await LaunchDarklyStandIn.RunAsync(args[1..]),
        "backend" => await BackendStandIn.RunAsync(args[1..]),
        "kubernetes" => await KubernetesStandIn.RunAsync(args[1..]),
        "notifications" => await NotificationReceiversStandIn.RunAsync(args[1..]),
        _ => Usage(),
    };
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    return Usage();
}

static int Usage()
{
    Console.Error.WriteLine("usage: PMS.Flags.TestServers launchdarkly --token <token> [--read-only-token <token>] [--seed <file.json>] [--port <n>] [--unknown-environment-404]");
    Console.Error.WriteLine("       PMS.Flags.TestServers backend --flag-file <feature_flags.json> --flag <key> --environment <env> [--token <t>] [--rps <n>] [--faulty] [--port <n>]");
    Console.Error.WriteLine("       PMS.Flags.TestServers kubernetes [--token <t>] [--backend-token <t>] [--replicas <n>] [--pod-ready-seconds <s>] [--progress-deadline-seconds <s>] [--document <file>] [--environment <env>] [--no-metrics] [--port <n>] [--tls-port <n>]");
    Console.Error.WriteLine("       PMS.Flags.TestServers notifications [--secret <webhook path secret>] [--token <grafana token>] [--port <n>]");
    return 2;
}
