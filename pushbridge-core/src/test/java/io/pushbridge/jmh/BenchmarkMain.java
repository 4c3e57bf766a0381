package io.pushbridge.jmh;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SortedSet;
import java.util.regex.Pattern;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.format.OutputFormat;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * What the {@code jmh} Maven profile runs in each module with benchmarks: JMH's own runner, with
 * JMH's command line, on the benchmarks of this module only. JMH reads every
 * {@code META-INF/BenchmarkList} on the class path, so the Redis module would also run core's
 * benchmarks (its test jar is a test dependency): the profile names the module's own list in the
 * system property {@value #OWN_LIST} and the others are excluded. A module none of whose
 * benchmarks match the patterns given says so and is skipped, where JMH alone would fail, so that
 * one command ({@code -pl pushbridge-redis -am}) runs what matches in every module it builds.
 * Without the property, or to list benchmarks or show help, this is plain {@link org.openjdk.jmh.Main}.
 */
public final class BenchmarkMain {

    /** The system property naming the module's own benchmark list (a file). */
    static final String OWN_LIST = "pushbridge.jmh.list";

    public static void main(String[] args) throws Exception {
        String ownList = System.getProperty(OWN_LIST);
        CommandLineOptions options;
        try {
            options = new CommandLineOptions(args);
        } catch (CommandLineOptionException e) {
            org.openjdk.jmh.Main.main(args); // JMH says what is wrong with them
            return;
        }
        if (ownList == null || options.shouldHelp() || options.shouldList() || options.shouldListWithParams()
                || options.shouldListProfilers() || options.shouldListResultFormats()) {
            org.openjdk.jmh.Main.main(args);
            return;
        }
        OutputFormat silent = OutputFormatFactory.createFormatInstance(System.out, VerboseMode.SILENT);
        List<String> includes = options.getIncludes().isEmpty() ? List.of(".*") : options.getIncludes();
        SortedSet<BenchmarkListEntry> matching = BenchmarkList.fromFile(ownList).find(silent, includes, options.getExcludes());
        if (matching.isEmpty()) {
            System.out.println("No benchmark of this module matches " + includes + "; none run here.");
            return;
        }
        Set<String> own = new HashSet<>();
        matching.forEach(entry -> own.add(entry.getUsername()));
        OptionsBuilder builder = new OptionsBuilder();
        builder.parent(options);
        for (BenchmarkListEntry entry : BenchmarkList.defaultList().find(silent, List.of(".*"), List.of())) {
            if (!own.contains(entry.getUsername())) {
                builder.exclude("^" + Pattern.quote(entry.getUsername()) + "$");
            }
        }
        new Runner(builder.build()).run();
    }

    private BenchmarkMain() {
    }
}
