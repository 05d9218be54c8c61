import { Component, onWillStart, onWillUnmount, useEffect, useRef } from "@odoo/owl";
import { loadBundle } from "@web/core/assets";
import { _t } from "@web/core/l10n/translation";
import { formatDate } from "@web/core/l10n/dates";

const { DateTime } = luxon;

/** The last days of an activity: processed (green) and rejected (red) traces per day. */
export class ActivityChart extends Component {
    static template = "marketing_automation_community.ActivityChart";
    static props = {
        series: Object,
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
        const { days, processed, rejected } = this.props.series;
        return {
            type: "line",
            data: {
                labels: days.map((day) => formatDate(DateTime.fromISO(day))),
                datasets: [
                    {
                        label: _t("Success"),
                        data: processed,
                        borderColor: "#28a745",
                        backgroundColor: "rgba(40, 167, 69, 0.15)",
                        fill: true,
                        cubicInterpolationMode: "monotone",
                        pointRadius: 2,
                    },
                    {
                        label: _t("Rejected"),
                        data: rejected,
                        borderColor: "#dc3545",
                        backgroundColor: "rgba(220, 53, 69, 0.15)",
                        fill: true,
                        cubicInterpolationMode: "monotone",
                        pointRadius: 2,
                    },
                ],
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
