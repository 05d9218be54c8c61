import { Component, onWillStart, onWillUnmount, useEffect, useRef } from "@odoo/owl";
import { loadBundle } from "@web/core/assets";
import { formatDate } from "@web/core/l10n/dates";
import { cssColor } from "./vocabulary";

const { DateTime } = luxon;

/** The last days of an activity: processed and rejected traces per day, in the colours of their states. */
export class ActivityChart extends Component {
    static template = "marketing_automation_community.ActivityChart";
    static props = {
        series: Object,
        vocabulary: Object,
    };

    setup() {
        this.canvasRef = useRef("canvas");
        this.chart = null;
        onWillStart(() => loadBundle("web.chartjs_lib"));
        useEffect(
            () => {
                this.renderChart();
            },
            () => [this.props.series]
        );
        onWillUnmount(() => this.chart?.destroy());
    }

    get config() {
        const { days } = this.props.series;
        return {
            type: "line",
            data: {
                labels: days.map((day) => formatDate(DateTime.fromISO(day))),
                datasets: ["processed", "rejected"].map((state) => {
                    const color = this.props.vocabulary.state_colors[state];
                    return {
                        label: this.props.vocabulary.measures[state],
                        data: this.props.series[state],
                        borderColor: cssColor(color),
                        backgroundColor: cssColor(color, 0.15),
                        fill: true,
                        // straight lines: a day's count is a count, not a wave
                        tension: 0,
                        pointRadius: 2,
                    };
                }),
            },
            options: {
                maintainAspectRatio: false,
                animation: false,
                interaction: { mode: "index", intersect: false },
                plugins: { legend: { display: false } },
                scales: {
                    x: { display: false },
                    y: { display: false, beginAtZero: true, suggestedMax: 1 },
                },
            },
        };
    }

    renderChart() {
        this.chart?.destroy();
        this.chart = new Chart(this.canvasRef.el, this.config);
    }
}
