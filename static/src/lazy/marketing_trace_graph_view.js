import { registry } from "@web/core/registry";
import { GraphRenderer } from "@web/views/graph/graph_renderer";
import { graphView } from "@web/views/graph/graph_view";
import { cssColor, useWorkflowVocabulary } from "@marketing_automation_community/workflow/vocabulary";

/**
 * Traces (bars) and participants (pie) grouped by state are drawn in the
 * colour of their state, from the vocabulary's one table per model.
 */
export class MarketingTraceGraphRenderer extends GraphRenderer {
    setup() {
        super.setup();
        this.vocabulary = useWorkflowVocabulary();
    }

    /** The colour of a group label of the state, or "" when it is not one. */
    stateColor(label) {
        const { fields, resModel } = this.model.metaData;
        const selection = fields.state?.selection || [];
        const state = selection.find(([, stateLabel]) => stateLabel === label)?.[0];
        const colors =
            resModel === "marketing.participant"
                ? this.vocabulary.participant_state_colors
                : this.vocabulary.state_colors;
        return state && colors[state] ? cssColor(colors[state]) : "";
    }

    getBarChartData() {
        const data = super.getBarChartData();
        for (const dataset of data.datasets) {
            const color = this.stateColor(dataset.label);
            if (color) {
                dataset.backgroundColor = color;
            }
        }
        return data;
    }

    getPieChartData() {
        const data = super.getPieChartData();
        const colors = data.labels.map((label) => this.stateColor(label));
        for (const dataset of data.datasets) {
            if (Array.isArray(dataset.backgroundColor)) {
                dataset.backgroundColor = dataset.backgroundColor.map(
                    (color, index) => colors[index] || color
                );
                dataset.hoverBackgroundColor = dataset.backgroundColor;
            }
        }
        return data;
    }

    /** The pie's legend in the colours of its slices. */
    getLegendOptions() {
        const options = super.getLegendOptions();
        const generateLabels = options.labels?.generateLabels;
        if (this.model.metaData.mode === "pie" && generateLabels) {
            options.labels.generateLabels = (chart) =>
                generateLabels(chart).map((item) => ({
                    ...item,
                    fillStyle:
                        this.stateColor(chart.data.labels[item.index]) || item.fillStyle,
                }));
        }
        return options;
    }
}

registry.category("views").add("marketing_trace_graph", {
    ...graphView,
    Renderer: MarketingTraceGraphRenderer,
});
